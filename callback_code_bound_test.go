package instagram

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestCallbackCodeLongerThanAnyMetaIssuesIsNeverSent: the callback's code
// is bounded as accounts/<name>'s is (4 KiB; Meta's codes are a few
// hundred characters). A longer one, which only a crafted URL carries, is
// refused with a page in fixed words before the state is checked: nothing
// is sent to Meta (the code exchange would carry it beside the app
// secret, up to Vault's request size limit of 32 MiB), nothing is stored,
// and the state is not used up, so the owner's real redirect still
// completes. Before, such a code was sent to Meta whole.
func TestCallbackCodeLongerThanAnyMetaIssuesIsNeverSent(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	back := e.startAuthorization("shop", "shop_user")
	before := e.storageSnapshot()

	for _, n := range []int{maxCredentialLength + 1, 1 << 20} {
		huge := url.Values{"code": {strings.Repeat("A", n)}, "state": back["state"]}
		p := e.callback(logical.ReadOperation, huge)
		p.expect(t, http.StatusBadRequest, "Authorization not completed", "longer than any")
		if strings.Contains(p.body, "AAAAAAAA") {
			t.Errorf("the page repeats the code")
		}
		if n := e.meta.Calls(graphtest.EndpointExchangeCode); n != 0 {
			t.Fatalf("a %d-byte code was sent to Meta (%d code exchanges)", len(huge.Get("code")), n)
		}
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a refused callback changed storage (the state was used up)")
	}
	if lines := e.logLines("authorization callback refused: code too long"); len(lines) == 0 {
		t.Error("the refusal was not logged")
	}
	// The state was not used up: the real redirect still completes.
	e.callback(logical.ReadOperation, back).expect(t, http.StatusOK, "@shop_user")
}
