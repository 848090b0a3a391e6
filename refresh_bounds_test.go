package instagram

import (
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestAppPauseIsCappedAtADayAndShownInStatus (issue 13, finding 9): an
// app-wide throttle (code 4) whose Retry-After asks for ten years pauses
// every refresh in the mount for a day, not ten years, and status shows the
// pause, until when and why, while it lasts and nothing once it is over.
func TestAppPauseIsCappedAtADayAndShownInStatus(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	names := e.registerDue("paused", 3)

	st := e.mustOK(e.read("status"))
	if st.Data["app_paused_until"] != "" || st.Data["app_pause_reason"] != "" {
		t.Fatalf("not paused, yet status shows until %q reason %q", st.Data["app_paused_until"], st.Data["app_pause_reason"])
	}

	f := graphtest.Throttled(4, 30)
	f.Header.Set("Retry-After", "315360000") // ten years
	e.meta.Fail(graphtest.EndpointRefresh, 1, f)
	start := e.clock.Now()
	e.tick()
	if got := e.meta.Calls(graphtest.EndpointRefresh); got != 1 {
		t.Fatalf("%d refresh calls, want the one that met the throttle", got)
	}
	st = e.mustOK(e.read("status"))
	wantUntil := start.Add(24 * time.Hour).Format(time.RFC3339)
	reason, _ := st.Data["app_pause_reason"].(string)
	if st.Data["app_paused_until"] != wantUntil || !strings.Contains(reason, "code 4") {
		t.Fatalf("status shows pause until %v (want %s), reason %q (want Meta's code 4)", st.Data["app_paused_until"], wantUntil, reason)
	}
	for _, name := range names {
		if strings.Contains(reason, e.account(name).AccessToken) {
			t.Fatal("the pause reason quotes a token")
		}
	}

	for range 23 {
		e.clock.Advance(time.Hour)
		e.tick()
	}
	e.clock.Advance(59 * time.Minute)
	e.tick()
	if got := e.meta.Calls(graphtest.EndpointRefresh); got != 1 {
		t.Fatalf("%d refresh calls during the pause, want none after the first", got-1)
	}

	e.clock.Advance(time.Minute)
	e.tick()
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid || !a.LastRefreshedAt.Equal(e.clock.Now()) {
			t.Fatalf("%s a day later: %s, refreshed at %v (%q)", name, a.Status, a.LastRefreshedAt, a.LastError)
		}
	}
	e.rememberStoredTokens(names)
	st = e.mustOK(e.read("status"))
	if st.Data["app_paused_until"] != "" || st.Data["app_pause_reason"] != "" {
		t.Fatalf("the pause is over, yet status shows until %q reason %q", st.Data["app_paused_until"], st.Data["app_pause_reason"])
	}
}

// TestAbsurdExpiresInKeepsTheStoredToken (issue 13, finding 9): a refresh
// answered with an expires_in past what a time.Duration holds (9.3e9
// seconds) is a malformed answer: the stored token and its expiry stay, the
// failure is recorded naming the field (never the token) and retried.
func TestAbsurdExpiresInKeepsTheStoredToken(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	names := e.registerDue("absurd", 1)
	before := e.account(names[0])
	const answered = "IGAAtoken-with-an-absurd-lifetime"
	e.secrets = append(e.secrets, answered)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Failure{Status: 200,
		Body: `{"access_token":"` + answered + `","token_type":"bearer","expires_in":9300000000}`})
	e.tick()

	a := e.account(names[0])
	if a.AccessToken != before.AccessToken || !a.ExpiresAt.Equal(before.ExpiresAt) {
		t.Fatalf("stored token replaced %v, expiry %v (was %v)", a.AccessToken != before.AccessToken, a.ExpiresAt, before.ExpiresAt)
	}
	if a.Status != statusRefreshFailing || !strings.Contains(a.LastError, "expires_in") || strings.Contains(a.LastError, answered) {
		t.Fatalf("status %s, last error %q: want refresh_failing naming expires_in", a.Status, a.LastError)
	}
	e.clock.Advance(2 * time.Minute)
	e.tick()
	if a := e.account(names[0]); a.Status != statusValid || a.AccessToken == before.AccessToken {
		t.Fatalf("not recovered: %s %q", a.Status, a.LastError)
	}
	e.rememberStoredTokens(names)
}
