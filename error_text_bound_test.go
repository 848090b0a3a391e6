package instagram

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestHugeMetaErrorIsCutInTheRecordLogAndAnswer: a 900 KB error message
// from Meta (two-byte runes, within the 1 MiB response bound) reaches the
// account record, the log and the answers cut to a few KiB of valid UTF-8,
// through a manual refresh (answered), a periodic one (logged) and the
// account's read (last_error). It once made a 900 KB record, log line and
// answer each.
func TestHugeMetaErrorIsCutInTheRecordLogAndAnswer(t *testing.T) {
	const bound = 4 << 10
	huge := strings.Repeat("é", 450_000)
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour)) // due: within refresh_window
	logBefore := len(e.logs.String())

	// Code 2: transient, so the account stays refresh_failing and is
	// retried by the periodic run too.
	e.meta.Fail(graphtest.EndpointRefresh, 2, graphtest.GraphError(2, 0, "OAuthException", huge))
	_, err := e.write("accounts/shop/refresh", nil)
	if err == nil || len(err.Error()) > bound || !utf8.ValidString(err.Error()) {
		t.Fatalf("the manual refresh answered %d bytes (valid UTF-8: %v)", len(errText(err)), utf8.ValidString(errText(err)))
	}
	e.clock.Advance(2 * time.Hour)
	e.tick()

	a := e.account("shop")
	if a.Status != statusRefreshFailing || a.ConsecutiveFailures != 2 {
		t.Fatalf("status %s after %d failures, want refresh_failing after 2", a.Status, a.ConsecutiveFailures)
	}
	if len(a.LastError) > bound || !utf8.ValidString(a.LastError) || !strings.Contains(a.LastError, "éé") {
		t.Fatalf("last_error kept %d bytes (valid UTF-8: %v)", len(a.LastError), utf8.ValidString(a.LastError))
	}
	entry, err := e.storage.Get(context.Background(), accountStoragePrefix+"shop")
	if err != nil || len(entry.Value) > 2*bound {
		t.Fatalf("the account record is %d bytes (%v)", len(entry.Value), err)
	}
	resp := e.mustOK(e.read("accounts/shop"))
	if got := resp.Data["last_error"].(string); len(got) > bound {
		t.Fatalf("accounts/shop answers %d bytes of last_error", len(got))
	}
	if logged := len(e.logs.String()) - logBefore; logged > 4*bound {
		t.Fatalf("two failed refreshes logged %d bytes", logged)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestLastErrorIsCutWhateverItsSource: every transition that keeps an
// error on an account cuts it to maxLastError bytes of valid UTF-8, so a
// long text from anywhere (Meta's is already cut by the graph client; a
// storage error, or words of the engine's own around Meta's, are not) never
// makes a large record, log line or answer.
func TestLastErrorIsCutWhateverItsSource(t *testing.T) {
	long := strings.Repeat("é", 450_000)
	noBackoff := func(int) time.Duration { return time.Minute }
	for name, mark := range map[string]func(a *account){
		"markNeedsReauth":             func(a *account) { a.markNeedsReauth(stNow, long) },
		"recordRefreshFailure":        func(a *account) { a.recordRefreshFailure(stNow, errors.New("x"), long, noBackoff) },
		"recordInstagramCheckFailure": func(a *account) { a.recordInstagramCheckFailure(stNow, long) },
		"recordFacebookCheckFailure":  func(a *account) { a.recordFacebookCheckFailure(stNow, long) },
		"recordCheckNeedsReauth":      func(a *account) { a.recordCheckNeedsReauth(stNow, long) },
	} {
		a := stateFixture(t, "ig/valid")
		mark(a)
		if len(a.LastError) > maxLastError+len("…") || !utf8.ValidString(a.LastError) || !strings.HasPrefix(a.LastError, "éé") {
			t.Errorf("%s kept %d bytes (valid UTF-8: %v)", name, len(a.LastError), utf8.ValidString(a.LastError))
		}
	}
}

// TestMetaResponseHeadersAreBounded: the engine's HTTP client reads at most
// maxMetaHeaderBytes of a response's headers (net/http's own limit is 10
// MiB), as it reads at most 1 MiB of a body: an answer from Meta whose
// headers pass it fails as Meta being unavailable (a 502 to a manual
// refresh), and the stored token stays as it was.
func TestMetaResponseHeadersAreBounded(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	before := e.account("shop").AccessToken
	f := graphtest.Failure{Status: 200, Body: `{"access_token":"IGAAfrom-a-bloated-answer","token_type":"bearer","expires_in":5184000}`,
		Header: map[string][]string{"X-Padding": {strings.Repeat("p", maxMetaHeaderBytes)}}}
	e.meta.Fail(graphtest.EndpointRefresh, 1, f)
	_, err := e.write("accounts/shop/refresh", nil)
	if httpStatus(nil, err) != 502 {
		t.Fatalf("a refresh answered with %d bytes of headers: %v, want a 502", maxMetaHeaderBytes, err)
	}
	if e.account("shop").AccessToken != before {
		t.Fatal("the token from the oversized answer was stored")
	}
}
