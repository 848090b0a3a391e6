package instagram

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestCallerTextIsCutInTheCallbacksLog: what a caller of the callback
// writes that its log keeps for the operator (a denial's error_reason and
// error_description, the names of parameters the path does not take) is
// cut (64 and 300 bytes), so a crafted URL of up to Vault's request size
// limit makes a log line of at most a few hundred bytes. The page repeats
// none of it (TestUnauthenticatedAnswersShowNoCallerChosenText).
func TestCallerTextIsCutInTheCallbacksLog(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	huge := strings.Repeat("q", 100_000)
	const maxLine = 1024

	_, state := e.authURL(map[string]any{"account": "denied"})
	e.callback(logical.ReadOperation, url.Values{"state": {state}, "error": {"access_denied"},
		"error_reason": {huge}, "error_description": {huge}}).expect(t, http.StatusBadRequest, "Authorization declined")
	lines := e.logLines("the owner did not authorize")
	if len(lines) != 1 {
		t.Fatalf("%d denial lines logged, want 1", len(lines))
	}
	if len(lines[0]) > maxLine || !strings.Contains(lines[0], "qqqq") {
		t.Errorf("the denial line is %d bytes (want the texts kept, cut, in at most %d)", len(lines[0]), maxLine)
	}

	back := e.startAuthorization("shop", "shop_user")
	params := url.Values{huge: {"1"}}
	for k, v := range back {
		params[k] = v
	}
	e.callback(logical.ReadOperation, params).expect(t, http.StatusBadRequest, "parameters this page does not take")
	lines = e.logLines("unknown parameters")
	if len(lines) != 1 {
		t.Fatalf("%d unknown-parameter lines logged, want 1", len(lines))
	}
	if len(lines[0]) > maxLine || !strings.Contains(lines[0], "qqqq") {
		t.Errorf("the unknown-parameter line is %d bytes (want the names kept, cut, in at most %d)", len(lines[0]), maxLine)
	}
}
