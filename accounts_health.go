package instagram

import (
	"fmt"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// status's `health` is the app-level verdict (the Graph API version, Meta's
// problems with the app, the app-wide pause, scope drift): one account
// whose owner changed their password must not turn the engine's alarm red
// at 100,000 accounts. But a `health: ok` next to accounts that cannot be
// served reads as "all is well", so the answer carries the accounts'
// verdict beside it, from the same in-memory figures (O(statuses)).

// assessAccounts weighs the accounts: error while any needs its owner to
// authorize again (its token reads answer 409), warning while any refresh
// is failing (retried; the token is still served) or a Facebook Login
// token nears its end (only its owner can renew it), else ok. Findings
// name counts and statuses, never an account: status is one read for
// every operator, and the per-account view is accounts/<name>.
func assessAccounts(figs schedule.Figures) appAssessment {
	a := appAssessment{level: healthOK}
	if n := figs.ByStatus[statusNeedsReauth]; n > 0 {
		a.add(healthError, fmt.Sprintf("%s need their owner to authorize again (status %s): their token reads answer 409 until then (auth-url with replace=true makes the link)", countAccounts(n), statusNeedsReauth))
	}
	if n := figs.ByStatus[statusRefreshFailing]; n > 0 {
		a.add(healthWarning, fmt.Sprintf("%s whose refresh is failing are being retried (status %s, last_error on accounts/<name>); their tokens are still served", countAccounts(n), statusRefreshFailing))
	}
	if n := figs.ByStatus[statusExpiring]; n > 0 {
		a.add(healthWarning, fmt.Sprintf("%s hold a Facebook Login token that expires within refresh_window (status %s): only their owner authorizing again renews it", countAccounts(n), statusExpiring))
	}
	return a
}

func countAccounts(n int) string {
	if n == 1 {
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", n)
}

// addAccountsHealth adds accounts_health and its findings to a status
// answer, each finding also as a warning, as addAppHealth does for health.
func (b *backend) addAccountsHealth(resp *logical.Response) {
	a := assessAccounts(b.sched.Figures())
	resp.Data["accounts_health"] = a.level
	resp.Data["accounts_health_findings"] = nonNil(a.findings)
	for _, f := range a.findings {
		resp.AddWarning(f)
	}
}
