package instagram

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// ctxStorage is storage that honours its context as Vault's does (a
// plugin's storage calls travel over gRPC on the request's context): a
// call on a context that is done fails.
type ctxStorage struct{ logical.Storage }

func (s ctxStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Storage.Get(ctx, key)
}

func (s ctxStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Storage.Put(ctx, e)
}

func (s ctxStorage) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Storage.Delete(ctx, key)
}

func (s ctxStorage) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Storage.List(ctx, prefix)
}

// hangUpAfter is an HTTP transport that, once Meta has answered a call
// whose path ends in suffix (body read in full), runs hangUp: the client
// of the Vault request going away at the worst moment, with a new token
// issued and not yet stored.
type hangUpAfter struct {
	mu     sync.Mutex
	suffix string
	hangUp func()
}

func (h *hangUpAfter) set(suffix string, hangUp func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.suffix, h.hangUp = suffix, hangUp
}

func (h *hangUpAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	h.mu.Lock()
	if h.hangUp != nil && h.suffix != "" && strings.HasSuffix(req.URL.Path, h.suffix) {
		h.hangUp()
	}
	h.mu.Unlock()
	return resp, nil
}

// TestTokenIssuedBeforeTheClientHangsUpIsStored: a manual refresh and an
// authorization callback whose client goes away (its request context
// cancelled) right after Meta answered with a new token still store that
// token, as the periodic run does: the work that follows Meta's call runs
// on a context detached from the request's cancellation, with its own
// bound. Before, the save ran on the request's context and failed, and the
// token Meta had issued was lost (for the callback, the state and the
// code with it).
func TestTokenIssuedBeforeTheClientHangsUpIsStored(t *testing.T) {
	e := newTestEnv(t)
	tr := &hangUpAfter{}
	e.b.httpClient = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	e.configure(nil)

	t.Run("manual refresh", func(t *testing.T) {
		u := e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
		old := e.account("shop").AccessToken
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr.set("/refresh_access_token", cancel)
		defer tr.set("", nil)
		_, _ = e.b.HandleRequest(ctx, &logical.Request{Operation: logical.UpdateOperation, Path: "accounts/shop/refresh", Storage: ctxStorage{e.storage}})
		if ctx.Err() == nil {
			t.Fatal("the client did not hang up: the test proves nothing")
		}
		issued := e.meta.CurrentToken(u.UserID)
		e.secrets = append(e.secrets, issued)
		a := e.account("shop")
		if issued == old || a.AccessToken != issued || !a.LastRefreshedAt.Equal(e.clock.Now()) || a.Status != statusValid {
			t.Fatalf("after the hang-up the account holds the new token: %v (refreshed at %s, status %s)", a.AccessToken == issued, formatTime(a.LastRefreshedAt), a.Status)
		}
	})

	t.Run("callback", func(t *testing.T) {
		back := e.startAuthorization("fresh", "fresh_user")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr.set("/me", cancel) // the last call before the account is stored
		defer tr.set("", nil)
		data := map[string]any{}
		for k, v := range back {
			data[k] = v[0]
		}
		_, _ = e.b.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "callback", Data: data, Storage: ctxStorage{e.storage}})
		if ctx.Err() == nil {
			t.Fatal("the client did not hang up: the test proves nothing")
		}
		u, _ := e.meta.User("fresh_user")
		issued := e.meta.CurrentToken(u.UserID)
		e.secrets = append(e.secrets, issued)
		if a := e.account("fresh"); a == nil || a.AccessToken != issued {
			t.Fatalf("the account the owner approved was not stored with its token: %v", a != nil)
		}
	})
}
