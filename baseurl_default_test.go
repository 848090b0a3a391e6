package instagram

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmptyBaseURLPutsMetasHostBack: a *_base_url written empty (or as
// spaces) means "Meta's default": `vault write instagram/config
// api_base_url=` is the way back from a proxy or a test host, a 204 that
// stores the field's documented default and leaves the other base URLs as
// they were. It holds for every *_base_url field config has, today's and
// any added later.
func TestEmptyBaseURLPutsMetasHostBack(t *testing.T) {
	fields := map[string]string{} // field -> its documented default
	for name, schema := range configFields() {
		if strings.HasSuffix(name, "_base_url") {
			def, _ := schema.Default.(string)
			if def == "" {
				t.Fatalf("%s documents no default", name)
			}
			fields[name] = def
		}
	}
	if len(fields) < 5 {
		t.Fatalf("config has %d *_base_url fields, want at least the five of Meta's hosts", len(fields))
	}
	for f, def := range fields {
		for _, empty := range []string{"", "  "} {
			t.Run(f+"="+empty, func(t *testing.T) {
				e := newTestEnv(t)
				e.configure(nil) // every base URL at the fake, none at Meta's
				before := e.mustOK(e.read("config")).Data
				if before[f] == def {
					t.Fatalf("the fake's %s is Meta's default %s: the test proves nothing", f, def)
				}

				resp, err := e.write("config", map[string]any{f: empty})
				if got := answerOf(t, resp, err); got.status != http.StatusNoContent {
					t.Fatalf("%s=%q: status %d (%s), want 204", f, empty, got.status, got.body)
				}
				after := e.mustOK(e.read("config")).Data
				if after[f] != def {
					t.Fatalf("%s reads %v after %s=%q, want Meta's default %s", f, after[f], f, empty, def)
				}
				for other := range fields {
					if other != f && after[other] != before[other] {
						t.Errorf("%s changed from %v to %v", other, before[other], after[other])
					}
				}
			})
		}
	}
}
