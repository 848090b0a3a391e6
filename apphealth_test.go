package instagram

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// warningsContain reports whether one of resp's warnings contains want.
func warningsContain(resp *logical.Response, want string) bool {
	if resp == nil {
		return false
	}
	for _, w := range resp.Warnings {
		if strings.Contains(w, want) {
			return true
		}
	}
	return false
}

// TestGraphAPIVersionEndOfLife: the configured version's end of life (the
// table of Meta's versions changelog in graph/versions.go) draws a warning on config reads and
// writes within 90 days of it, and an error-level status once it has
// passed; metrics carry the date.
func TestGraphAPIVersionEndOfLife(t *testing.T) {
	e := newTestEnv(t)
	// v21.0 ends 2027-01-21; the clock starts 2026-01-05.
	resp := e.mustOK(e.write("config", map[string]any{
		"app_id": testAppID, "app_secret": testAppSecret, "graph_api_version": "v21.0",
	}))
	if warningsContain(resp, "v21.0") {
		t.Fatalf("a warning a year before the end: %v", resp.Warnings)
	}
	if st := e.mustOK(e.read("status")); st.Data["health"] != healthOK || st.Data["graph_api_version_state"] != "current" {
		t.Fatalf("status a year before the end: %v", st.Data)
	}
	end := time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC)
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_graph_api_version_expiry_timestamp_seconds"); got != float64(end.Unix()) {
		t.Fatalf("version expiry metric %v, want %v", got, end.Unix())
	}

	// 89 days before the end.
	e.clock.Advance(end.Add(-89 * 24 * time.Hour).Sub(e.clock.Now()))
	for _, resp := range []*logical.Response{
		e.mustOK(e.write("config", map[string]any{"refresh_concurrency": 2})),
		e.mustOK(e.read("config")),
	} {
		if !warningsContain(resp, "v21.0 reaches its end of life on 2027-01-21") {
			t.Fatalf("no end-of-life warning 89 days before: %v", resp)
		}
	}
	if st := e.mustOK(e.read("status")); st.Data["health"] != healthWarning || st.Data["graph_api_version_state"] != "expiring" {
		t.Fatalf("status 89 days before the end: %v", st.Data)
	}

	// After the end: error-level status, and the warning says so.
	e.clock.Advance(90 * 24 * time.Hour)
	st := e.mustOK(e.read("status"))
	if st.Data["health"] != healthError || st.Data["graph_api_version_state"] != "ended" ||
		st.Data["graph_api_version_expires_at"] != "2027-01-21T00:00:00Z" || !warningsContain(st, "reached its end of life") {
		t.Fatalf("status after the end: %v %v", st.Data, st.Warnings)
	}
	if !warningsContain(e.mustOK(e.read("config")), "reached its end of life on 2027-01-21") {
		t.Fatal("no warning on config read after the end")
	}

	// A version the table does not know: no date, and the engine says so.
	resp = e.mustOK(e.write("config", map[string]any{"graph_api_version": "v99.0"}))
	if !warningsContain(resp, "not in this engine's table") {
		t.Fatalf("unknown version: %v", resp)
	}
	st = e.mustOK(e.read("status"))
	if st.Data["graph_api_version_state"] != "unknown" || st.Data["graph_api_version_expires_at"] != "" {
		t.Fatalf("status for an unknown version: %v", st.Data)
	}
	s := e.scrapeMetrics(nil)
	if _, ok := s.lookup("vault_instagram_graph_api_version_expiry_timestamp_seconds"); ok {
		t.Fatal("an expiry date for a version the engine does not know")
	}
	if got := s.value(t, "vault_instagram_graph_api_version_info", "version", "v99.0", "known", "false"); got != 1 {
		t.Fatalf("version info %v", got)
	}
}

// TestGraphAPIVersionV21WarnsOnDecember6th2026: on 2026-12-06 a config
// pinned to v21.0 (which ends 2027-01-21, inside the 90-day horizon) is
// already warned about, on a write, a read and in status.
func TestGraphAPIVersionV21WarnsOnDecember6th2026(t *testing.T) {
	e := newTestEnv(t)
	e.clock.Advance(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	const want = "graph_api_version v21.0 reaches its end of life on 2027-01-21 (in 45 days)"
	resp := e.mustOK(e.write("config", map[string]any{
		"app_id": testAppID, "app_secret": testAppSecret, "graph_api_version": "v21.0",
	}))
	if !warningsContain(resp, want) {
		t.Fatalf("config write on 2026-12-06: %v, want a warning %q", resp, want)
	}
	if !warningsContain(e.mustOK(e.read("config")), want) {
		t.Fatal("no warning on a config read")
	}
	if st := e.mustOK(e.read("status")); st.Data["graph_api_version_state"] != "expiring" || st.Data["health"] != healthWarning {
		t.Fatalf("status on 2026-12-06: %v", st.Data)
	}
}

// TestAppProblemRecordedOnce: when Meta's answers concern the app (here a
// deactivated app, which Meta answers with code 190 like a dead token), the
// engine records one app problem in status and metrics and pauses every
// call, instead of marking each account needs_reauth; the first normal
// answer after the pause ends it.
func TestAppProblemRecordedOnce(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	names := e.registerDue("app", 5)
	e.meta.SetAppProblem(graph.AppDeactivated)

	for range 10 { // ten periodic runs, a minute apart
		e.tick()
		e.clock.Advance(time.Minute)
	}
	if got := e.meta.Calls(graphtest.EndpointRefresh); got != 1 {
		t.Fatalf("%d calls to Meta with the app deactivated, want 1 (then a pause)", got)
	}
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid || a.ConsecutiveFailures != 0 || a.LastError != "" {
			t.Fatalf("%s was marked for an app problem: %s, %d failures, %q", name, a.Status, a.ConsecutiveFailures, a.LastError)
		}
	}
	st := e.mustOK(e.read("status"))
	p, _ := st.Data["app_problem"].(map[string]any)
	if p == nil || p["kind"] != "deactivated" || p["code"] != 190 || p["answers"] != int64(1) ||
		!strings.Contains(p["message"].(string), "Application has been deleted") || st.Data["health"] != healthError {
		t.Fatalf("status: %v", st.Data)
	}
	s := e.scrapeMetrics(nil)
	for _, c := range []struct {
		family string
		labels []string
		want   float64
	}{
		{"vault_instagram_app_problem", []string{"kind", "deactivated"}, 1},
		{"vault_instagram_app_problem", []string{"kind", "throttled"}, 0},
		{"vault_instagram_app_problems_total", []string{"kind", "deactivated"}, 1},
		{"vault_instagram_refresh_failures_total", []string{"class", "app"}, 1},
		{"vault_instagram_refresh_failures_total", []string{"class", "reauth"}, 0},
		{"vault_instagram_accounts", []string{"status", statusValid}, 5},
		{"vault_instagram_accounts", []string{"status", statusNeedsReauth}, 0},
	} {
		if got := s.value(t, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	if got := s.value(t, "vault_instagram_app_paused_until_timestamp_seconds"); got <= float64(e.clock.Now().Unix()) {
		t.Errorf("paused until %v: no pause in force", got)
	}
	if n := strings.Count(e.logs.String(), "problem with the app itself"); n != 1 {
		t.Errorf("the app problem was logged %d times, want once", n)
	}

	// The developer restores the app; after the pause, the next call
	// works and ends the problem, and every account is refreshed.
	e.meta.SetAppProblem("")
	e.clock.Advance(appProblemPause)
	for range 3 {
		e.tick()
		e.clock.Advance(time.Minute)
	}
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid || a.LastRefreshedAt.IsZero() {
			t.Fatalf("%s not refreshed after the app came back: %s", name, a.Status)
		}
	}
	st = e.mustOK(e.read("status"))
	if _, ok := st.Data["app_problem"]; ok || st.Data["health"] != healthOK {
		t.Fatalf("status after the app came back: %v", st.Data)
	}
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_app_problem", "kind", "deactivated"); got != 0 {
		t.Fatalf("app_problem{deactivated} = %v after it ended", got)
	}
	e.rememberStoredTokens(names)
}

// TestEveryAppProblemKindFromTheFake: each kind of app-level answer the
// fake gives is recognised as that kind, through refreshes and health
// checks, and leaves the accounts' status alone.
func TestEveryAppProblemKindFromTheFake(t *testing.T) {
	for _, kind := range graph.AllAppProblemKinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			e.registerFromCode("shop", "shop_user") // checked daily, refreshed in 30 days
			e.registerDue("due", 1)
			e.untilCheck("shop")
			e.meta.SetAppProblem(kind)
			e.tick()
			p, _ := e.mustOK(e.read("status")).Data["app_problem"].(map[string]any)
			if p == nil || p["kind"] != string(kind) {
				t.Fatalf("app_problem %v, want kind %s", p, kind)
			}
			for _, name := range []string{"shop", "due-0"} {
				if a := e.account(name); a.Status != statusValid {
					t.Fatalf("%s: %s %q", name, a.Status, a.LastError)
				}
			}
			e.rememberStoredTokens([]string{"shop", "due-0"})
		})
	}
}

// TestAppThrottleLeavesTheAccountAlone: code 4 limits the app; the account
// whose call met it is neither failing nor backed off on its own, and the
// throttle shows as an app problem and a pause until Meta's regain time.
func TestAppThrottleLeavesTheAccountAlone(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	names := e.registerDue("t", 3)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(4, 30))
	e.tick()
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid || a.ConsecutiveFailures != 0 || !a.RetryAt.IsZero() {
			t.Fatalf("%s after an app throttle: %s, %d failures, retry at %v", name, a.Status, a.ConsecutiveFailures, a.RetryAt)
		}
	}
	st := e.mustOK(e.read("status"))
	if p, _ := st.Data["app_problem"].(map[string]any); p == nil || p["kind"] != "throttled" || st.Data["health"] != healthWarning {
		t.Fatalf("status: %v", st.Data)
	}
	want := float64(e.clock.Now().Add(30 * time.Minute).Unix())
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_app_paused_until_timestamp_seconds"); got != want {
		t.Fatalf("paused until %v, want %v", got, want)
	}
}

// TestPermissionDrift: an account granted fewer scopes than config's shows
// them as missing_scopes and is counted; an account whose scopes are
// unknown is not; changing config's scopes recounts.
func TestPermissionDrift(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"scopes": "instagram_business_basic,instagram_business_manage_messages"})
	e.registerFromCode("shop", "shop_user") // granted basic and content_publish
	e.registerLongLived("bare", "bare_user", e.clock.Now())

	got := e.mustOK(e.read("accounts/shop")).Data["missing_scopes"]
	if !slices.Equal(got.([]string), []string{"instagram_business_manage_messages"}) {
		t.Fatalf("missing_scopes %v", got)
	}
	if got := e.mustOK(e.read("accounts/bare")).Data["missing_scopes"].([]string); len(got) != 0 {
		t.Fatalf("an account with unknown scopes shows missing_scopes %v", got)
	}
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_accounts_missing_scopes"); got != 1 {
		t.Fatalf("accounts_missing_scopes = %v, want 1", got)
	}
	st := e.mustOK(e.read("status"))
	if st.Data["accounts_missing_scopes"] != 1 || st.Data["health"] != healthWarning {
		t.Fatalf("status: %v", st.Data)
	}

	e.mustOK(e.write("config", map[string]any{"scopes": "instagram_business_basic"}))
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_accounts_missing_scopes"); got != 0 {
		t.Fatalf("accounts_missing_scopes = %v after config dropped the scope", got)
	}
	e.mustOK(e.write("config", map[string]any{"scopes": "instagram_business_basic,pages_show_list"}))
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_accounts_missing_scopes"); got != 1 {
		t.Fatalf("accounts_missing_scopes = %v after config added a scope", got)
	}
	e.mustOK(e.do(logical.DeleteOperation, "accounts/shop", nil))
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_accounts_missing_scopes"); got != 0 {
		t.Fatalf("accounts_missing_scopes = %v after the account went", got)
	}
}

// TestFacebookCheckMeetsAppProblem: a debug_token health check that meets
// an app-level problem leaves the Facebook Login account as it was (no
// failure recorded on it) and counts one failed check and one app problem.
func TestFacebookCheckMeetsAppProblem(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("shop", "shop_user", true)
	before := e.account("shop")
	e.meta.SetAppProblem(graph.AppRestricted)
	e.clock.Advance(healthCheckInterval + healthCheckSpread)
	e.tick()
	a := e.account("shop")
	if a.Status != statusValid || a.ConsecutiveFailures != 0 || a.LastError != "" || !a.LastCheckedAt.Equal(before.LastCheckedAt) {
		t.Fatalf("after an app-level answer: %s, %d failures, %q, checked %v", a.Status, a.ConsecutiveFailures, a.LastError, a.LastCheckedAt)
	}
	s := e.scrapeMetrics(nil)
	for _, c := range []struct {
		family string
		labels []string
		want   float64
	}{
		{"vault_instagram_health_checks_total", []string{"result", "failure"}, 1},
		{"vault_instagram_app_problem", []string{"kind", "restricted"}, 1},
		{"vault_instagram_meta_responses_total", []string{"endpoint", "debug_token", "outcome", "4xx"}, 1},
	} {
		if got := s.value(t, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	e.mustOK(e.read("token/shop"))
}
