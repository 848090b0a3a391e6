package instagram

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestProxyCallerHangingUpStillRecordsMetasRefusal: when Meta refuses an
// account's token for good on a proxied call and the caller has gone
// (its request context cancelled once Meta answered), the account is
// still marked needs_reauth: Meta's verdict is saved on a context detached
// from the request's, so token/<name> stops handing out a dead token
// whoever asked.
func TestProxyCallerHangingUpStillRecordsMetasRefusal(t *testing.T) {
	e := newTestEnv(t)
	tr := &hangUpAfter{}
	e.b.httpClient = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.meta.Revoke(e.meta.CurrentToken(u.UserID))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.set("/me", cancel)
	defer tr.set("", nil)
	_, _ = e.b.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "proxy/shop/me", Storage: ctxStorage{e.storage}})
	if ctx.Err() == nil {
		t.Fatal("the client did not hang up: the test proves nothing")
	}
	if a := e.account("shop"); a.Status != statusNeedsReauth {
		t.Fatalf("after the hang-up the account is %q, want %q", a.Status, statusNeedsReauth)
	}
}
