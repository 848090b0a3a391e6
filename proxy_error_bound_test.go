package instagram

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestProxiedMetaErrorIsBoundedInTextAndStatus: what a hostile Graph host
// sends back in an error to a proxied call reaches the caller bounded: its
// message, type and trace id cut (a few KiB of valid UTF-8 in all, from a
// 900 KB message), and its HTTP status passed on only when it is an error
// status (400-599); an error body under a 2xx status is a 502, so the
// caller never takes a refusal for a success.
func TestProxiedMetaErrorIsBoundedInTextAndStatus(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	huge := strings.Repeat("é", 450_000)
	for _, tc := range []struct {
		name       string
		status     int
		wantStatus int
	}{
		{"400 kept", http.StatusBadRequest, http.StatusBadRequest},
		{"error body under 200", http.StatusOK, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := graphtest.GraphError(100, 0, strings.Repeat("T", 100_000), huge)
			f.Status = tc.status
			f.Header = http.Header{"X-Fb-Trace-Id": {strings.Repeat("F", 100_000)}}
			e.meta.Fail(graphtest.EndpointMe, 1, f)
			ans := e.proxyRefusal(e.read("proxy/shop/me"))
			if ans.status != tc.wantStatus {
				t.Fatalf("status %d, want %d", ans.status, tc.wantStatus)
			}
			total := 0
			for _, s := range ans.Errors {
				total += len(s)
				if !utf8.ValidString(s) {
					t.Error("an error is not valid UTF-8 after the cut")
				}
			}
			for _, k := range []string{"message", "type", "fbtrace_id"} {
				s, _ := ans.GraphError[k].(string)
				total += len(s)
			}
			if total > 4<<10 {
				t.Fatalf("the refusal carries %d bytes of Meta's text", total)
			}
		})
	}
}
