package instagram

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// logLines returns the lines of the captured plugin log that contain every
// one of want.
func (e *testEnv) logLines(want ...string) []string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		ok := line != ""
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// TestRefusalsDoNotFloodTheLog: anyone can send bad requests to
// callback, deauthorize and data-deletion; each path logs at most one
// refusal line a minute, and then one line counting the ones it did not
// log (at the next periodic run, or before its next line).
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	forged, _ := newStateValue()
	e.secrets = append(e.secrets, forged)
	bad := map[string]func(){
		"callback": func() {
			e.callback(logical.ReadOperation, url.Values{"code": {"x"}, "state": {forged}}).expect(t, http.StatusBadRequest)
		},
		"deauthorize": func() {
			if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": "garbage"}); a.status != http.StatusBadRequest {
				t.Fatalf("deauthorize answered %d", a.status)
			}
		},
		"data-deletion": func() {
			if a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": "garbage"}); a.status != http.StatusBadRequest {
				t.Fatalf("data-deletion answered %d", a.status)
			}
		},
	}
	// Malformed callback parameters are refused through another line.
	malformed := func() {
		e.callback(logical.ReadOperation, url.Values{"state": {forged, forged}}).expect(t, http.StatusBadRequest)
	}
	refusals := func(path string) []string { return e.logLines("[WARN]", "refused", "path="+path) }
	summaries := func(path string) []string { return e.logLines("[WARN]", "refusals not logged", "path="+path) }

	for i := range 50 {
		for _, f := range bad {
			f()
		}
		if i%2 == 0 {
			malformed()
		}
		e.clock.Advance(time.Second / 2) // 25 s in all
	}
	for path := range bad {
		if got := refusals(path); len(got) != 1 {
			t.Errorf("%s: %d refusal lines within 25 s, want 1:\n%s", path, len(got), strings.Join(got, "\n"))
		}
		if got := summaries(path); len(got) != 0 {
			t.Errorf("%s: a count line before the minute was out: %v", path, got)
		}
	}

	// Within the minute the periodic run says nothing; after it, how many
	// refusals went unlogged on each path.
	e.tick()
	if got := e.logLines("refusals not logged"); len(got) != 0 {
		t.Errorf("count lines before the minute was out: %v", got)
	}
	e.clock.Advance(35 * time.Second)
	e.tick()
	for path, want := range map[string]string{"callback": "count=74", "deauthorize": "count=49", "data-deletion": "count=49"} {
		got := summaries(path)
		if len(got) != 1 || !strings.Contains(got[0], want) {
			t.Errorf("%s: count lines %v, want one saying %s", path, got, want)
		}
	}
	// Nothing more to count: the next run is silent.
	e.clock.Advance(2 * time.Minute)
	e.tick()
	if got := e.logLines("refusals not logged"); len(got) != 3 {
		t.Errorf("count lines after a quiet minute: %d, want still 3", len(got))
	}

	// A minute on, a refusal is logged again; one after it is counted and
	// the count comes out before the next line that is logged.
	bad["deauthorize"]()
	bad["deauthorize"]()
	if got := refusals("deauthorize"); len(got) != 2 {
		t.Errorf("deauthorize: %d refusal lines, want 2", len(got))
	}
	e.clock.Advance(time.Minute)
	bad["deauthorize"]()
	if got := refusals("deauthorize"); len(got) != 3 {
		t.Errorf("deauthorize: %d refusal lines, want 3", len(got))
	}
	if got := summaries("deauthorize"); len(got) != 2 || !strings.Contains(got[1], "count=1") {
		t.Errorf("deauthorize: count lines %v, want a second one saying count=1", got)
	}
}
