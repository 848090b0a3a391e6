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
		a.add(healthError, fmt.Sprintf("%d %s (status %s): %s until then (auth-url with replace=true makes the link)", n,
			accountsWording(n, "account needs its owner to authorize again", "accounts need their owners to authorize again"), statusNeedsReauth,
			accountsWording(n, "its token reads answer 409", "their token reads answer 409")))
	}
	if n := figs.ByStatus[statusRefreshFailing]; n > 0 {
		a.add(healthWarning, fmt.Sprintf("%d %s (status %s, last_error on accounts/<name>); %s still served", n,
			accountsWording(n, "account whose refresh is failing is being retried", "accounts whose refresh is failing are being retried"), statusRefreshFailing,
			accountsWording(n, "its token is", "their tokens are")))
	}
	if n := figs.ByStatus[statusExpiring]; n > 0 {
		a.add(healthWarning, fmt.Sprintf("%d %s (status %s): only %s", n,
			accountsWording(n, "account holds a Facebook Login token that expires within refresh_window", "accounts hold a Facebook Login token that expires within refresh_window"), statusExpiring,
			accountsWording(n, "its owner authorizing again renews it", "their owners authorizing again renew them")))
	}
	return a
}

// accountsWording picks the singular or plural wording for n accounts.
func accountsWording(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
