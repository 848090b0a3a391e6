package instagram

import (
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// TestStatusSaysWhenAccountsNeedAttention: `health` is the app-level
// verdict, so it stays ok while accounts fail; the answer says so itself:
// accounts_health is ok, warning (a refresh failing, retried) or error
// (an account needs its owner to authorize again, so its token reads
// fail), with one finding per kind of trouble naming how many accounts
// and which status to look for, each also sent as a warning.
func TestStatusSaysWhenAccountsNeedAttention(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	issued := e.clock.Now().Add(-10 * 24 * time.Hour) // refreshable, not due
	e.registerLongLived("shop", "shop_owner", issued)
	lost := e.registerLongLived("lost", "lost_owner", issued)
	e.registerLongLived("flaky", "flaky_owner", issued)

	st := e.mustOK(e.read("status"))
	if st.Data["health"] != healthOK || st.Data["accounts_health"] != healthOK {
		t.Fatalf("every account valid: health %v, accounts_health %v, want ok and ok", st.Data["health"], st.Data["accounts_health"])
	}
	if f, _ := st.Data["accounts_health_findings"].([]string); f == nil || len(f) != 0 {
		t.Fatalf("accounts_health_findings = %#v, want an empty list", st.Data["accounts_health_findings"])
	}
	if len(st.Warnings) != 0 {
		t.Fatalf("warnings with every account valid: %v", st.Warnings)
	}

	// A refresh that fails and is retried: a warning.
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Failure{})
	if resp, err := e.write("accounts/flaky/refresh", nil); err == nil && (resp == nil || !resp.IsError()) {
		t.Fatal("the injected failure did not fail the refresh")
	}
	if s := e.account("flaky").Status; s != statusRefreshFailing {
		t.Fatalf("flaky is %s, want refresh_failing", s)
	}
	st = e.mustOK(e.read("status"))
	if st.Data["health"] != healthOK || st.Data["accounts_health"] != healthWarning {
		t.Fatalf("one refresh failing: health %v, accounts_health %v, want ok and warning", st.Data["health"], st.Data["accounts_health"])
	}
	assertAccountsFinding(t, st.Data, st.Warnings, "1 account", statusRefreshFailing)

	// A token Meta revoked: the account needs its owner; an error.
	e.meta.RevokeUser(lost.UserID)
	if resp, err := e.write("accounts/lost/refresh", nil); err == nil && (resp == nil || !resp.IsError()) {
		t.Fatal("a revoked token refreshed")
	}
	if s := e.account("lost").Status; s != statusNeedsReauth {
		t.Fatalf("lost is %s, want needs_reauth", s)
	}
	st = e.mustOK(e.read("status"))
	if st.Data["health"] != healthOK || st.Data["accounts_needs_reauth"] != 1 || st.Data["accounts_health"] != healthError {
		t.Fatalf("one account needs re-authorization: health %v, accounts_needs_reauth %v, accounts_health %v, want ok, 1 and error",
			st.Data["health"], st.Data["accounts_needs_reauth"], st.Data["accounts_health"])
	}
	assertAccountsFinding(t, st.Data, st.Warnings, "1 account", statusNeedsReauth)
	assertAccountsFinding(t, st.Data, st.Warnings, "1 account", statusRefreshFailing)
}

// assertAccountsFinding checks that one of accounts_health_findings names
// count and status, and that it is also a warning of the answer.
func assertAccountsFinding(t *testing.T, data map[string]any, warnings []string, count, status string) {
	t.Helper()
	findings, _ := data["accounts_health_findings"].([]string)
	for _, f := range findings {
		if strings.Contains(f, count) && strings.Contains(f, status) {
			for _, w := range warnings {
				if w == f {
					return
				}
			}
			t.Fatalf("finding %q is not among the warnings %v", f, warnings)
		}
	}
	t.Fatalf("no accounts_health finding names %q and %s: %v", count, status, findings)
}

// TestAccountsHealthFindingsCountEachStatus: every status that needs
// someone gets one finding with its count, worded for one account or many,
// and the worst decides the level.
func TestAccountsHealthFindingsCountEachStatus(t *testing.T) {
	a := assessAccounts(schedule.Figures{ByStatus: map[string]int{
		statusValid: 7, statusNeedsReauth: 2, statusRefreshFailing: 1, statusExpiring: 3,
	}})
	if a.level != healthError {
		t.Fatalf("level %s, want error", a.level)
	}
	want := []string{
		"2 accounts need their owners to authorize again (status needs_reauth)",
		"1 account whose refresh is failing is being retried (status refresh_failing",
		"3 accounts hold a Facebook Login token that expires within refresh_window (status expiring)",
	}
	if len(a.findings) != len(want) {
		t.Fatalf("findings %q, want %d", a.findings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(a.findings[i], w) {
			t.Errorf("finding %q, want it to start %q", a.findings[i], w)
		}
	}
	if a := assessAccounts(schedule.Figures{ByStatus: map[string]int{statusExpiring: 1}}); a.level != healthWarning {
		t.Errorf("one expiring account: level %s, want warning", a.level)
	}
}
