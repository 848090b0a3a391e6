package instagram

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestBaseURLMustBeHTTPSExceptOnLoopback: every *_base_url is where
// the engine sends tokens (and, on exchanges, the app secret). It must be
// https, except on a loopback host (tests, make dev); anything else is a
// 400 naming the field that changes nothing. An https host that is neither
// Meta's nor loopback (a proxy, a mirror) is accepted with a warning naming
// the field: a 200 answer, not a 204.
func TestBaseURLMustBeHTTPSExceptOnLoopback(t *testing.T) {
	const (
		ok      = "ok"
		warn    = "warn"
		refused = "refused"
	)
	cases := []struct {
		url, want string
	}{
		// Meta's own hosts over https.
		{"https://graph.instagram.com", ok},
		{"https://graph.instagram.com:443/", ok},
		{"https://api.instagram.com", ok},
		{"https://www.instagram.com", ok},
		{"https://instagram.com", ok},
		{"https://graph.facebook.com", ok},
		{"https://www.facebook.com", ok},
		{"https://facebook.com", ok},
		{"HTTPS://graph.instagram.com", ok}, // schemes are case-insensitive
		{"https://GRAPH.Instagram.COM", ok}, // so are host names
		{"https://graph.instagram.com.", ok},
		// Loopback, http or https.
		{"http://127.0.0.1:8999/graph.instagram.com", ok},
		{"http://127.1.2.3", ok},
		{"http://[::1]:8080/graph", ok},
		{"http://localhost:8200", ok},
		{"http://LOCALHOST", ok},
		{"HTTP://127.0.0.1", ok},
		{"https://localhost", ok},
		// https elsewhere: accepted, with a warning.
		{"https://proxy.example.com", warn},
		{"https://proxy.example.com:8443/meta/graph", warn},
		{"https://graph.instagram.com.evil.example", warn},
		{"https://localhost.evil.example", warn},
		{"https://10.0.0.7", warn},
		// Everything else: refused.
		{"http://graph.instagram.com", refused},
		{"http://proxy.example.com", refused},
		{"ftp://graph.instagram.com", refused},
		{"javascript:alert(1)", refused},
		{"http://localhost.evil.example", refused},
		{"http://127.0.0.1.nip.io", refused},
		{"http://127.0.0.1@evil.example", refused},
		{"http://127.0.0.1:80@evil.example", refused},
		{"https://user:pw@graph.instagram.com", refused},
		{"http://evil.example#@127.0.0.1", refused},
		{"http://evil.example?@127.0.0.1", refused},
		{"https://graph.instagram.com/?access_token=x", refused},
		{"https://graph.instagram.com/#frag", refused},
		{"http://0.0.0.0", refused},
		{"http://2130706433", refused},
		{"http://10.0.0.7", refused},
		{"//graph.instagram.com", refused},
		{"https://", refused},
		{"graph.instagram.com", refused},
		{"http://[::1", refused},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			if tc.want == refused {
				e.assertConfigRefused(t, map[string]any{"graph_base_url": tc.url}, "graph_base_url")
				return
			}
			resp, err := e.write("config", map[string]any{"graph_base_url": tc.url})
			got := answerOf(t, resp, err)
			switch tc.want {
			case ok:
				if got.status != http.StatusNoContent {
					t.Fatalf("status %d (%s), want 204 without warnings", got.status, got.body)
				}
			case warn:
				if got.status != http.StatusOK || resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "graph_base_url") {
					t.Fatalf("status %d, answer %v: want 200 with one warning naming graph_base_url", got.status, resp)
				}
			}
			if stored := e.mustOK(e.read("config")).Data["graph_base_url"]; stored != tc.url {
				t.Fatalf("graph_base_url reads %v, want %v", stored, tc.url)
			}
		})
	}
}

// TestEveryBaseURLFieldIsChecked: the rule holds for every
// *_base_url field config has, today's and any added later.
func TestEveryBaseURLFieldIsChecked(t *testing.T) {
	var fields []string
	for name := range configFields() {
		if strings.HasSuffix(name, "_base_url") {
			fields = append(fields, name)
		}
	}
	if len(fields) < 5 {
		t.Fatalf("config has %d *_base_url fields, want at least the five of Meta's hosts", len(fields))
	}
	for _, f := range fields {
		t.Run(f, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			e.assertConfigRefused(t, map[string]any{f: "http://meta-mirror.example"}, f)
			resp := e.mustOK(e.write("config", map[string]any{f: "https://meta-mirror.example"}))
			if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], f) {
				t.Fatalf("answer %v: want one warning naming %s", resp, f)
			}
		})
	}

	// Several at once: one warning each, naming each.
	e := newTestEnv(t)
	e.configure(nil)
	data := map[string]any{}
	for _, f := range fields {
		data[f] = "https://meta-mirror.example/" + f
	}
	resp := e.mustOK(e.write("config", data))
	if resp == nil || len(resp.Warnings) != len(fields) {
		t.Fatalf("answer %v: want %d warnings", resp, len(fields))
	}
	for _, f := range fields {
		if !strings.Contains(strings.Join(resp.Warnings, "\n"), f) {
			t.Errorf("no warning names %s", f)
		}
	}
}

// TestNonMetaBaseURLIsLoggedWithTheHostOnly: the log records
// which field now points where (field and host), never the URL's path, and
// never a secret; a first write that is refused stores nothing.
func TestNonMetaBaseURLIsLoggedWithTheHostOnly(t *testing.T) {
	e := newTestEnv(t)
	before := e.storageSnapshot()
	resp, err := e.write("config", map[string]any{
		"app_id": testAppID, "app_secret": testAppSecret, "api_base_url": "http://mirror.example",
	})
	e.mustFail(resp, err, "api_base_url")
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Fatal("a refused first write stored a config")
	}

	e.configure(map[string]any{"api_base_url": "https://mirror.example:8443/secret-path-segment"})
	var line string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "api_base_url") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("nothing logged about api_base_url:\n%s", e.logs.String())
	}
	if !strings.Contains(line, "[INFO]") || !strings.Contains(line, "host=mirror.example:8443") || !strings.Contains(line, "field=api_base_url") {
		t.Fatalf("log line %q: want INFO with field=api_base_url host=mirror.example:8443", line)
	}
	if strings.Contains(line, "secret-path-segment") || strings.Contains(line, testAppSecret) {
		t.Fatalf("log line %q carries more than the host", line)
	}

	// Loopback and Meta's hosts are not logged.
	n := strings.Count(e.logs.String(), "base URL")
	e.mustOK(e.write("config", map[string]any{"graph_base_url": "https://graph.instagram.com", "auth_base_url": "http://127.0.0.1:1"}))
	if strings.Count(e.logs.String(), "base URL") != n {
		t.Fatal("a base URL on Meta's or a loopback host was logged")
	}
}
