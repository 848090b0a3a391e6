package instagram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// BenchmarkProxyRead is a proxied Graph read in process (the fake on
// loopback answering at once) beside a token read of the same account:
// what the proxy costs the plugin itself, without Vault's HTTP and gRPC
// hops. `go test -run '^$' -bench ProxyRead -benchmem .`
//
// proxy-me-no-socket hands each call to the fake's handler in the calling
// goroutine instead of loopback HTTP: the engine's own work on a call (and
// the fake's), without the socket round trip and the goroutine hand-offs
// of net/http, which no change to the engine can remove.
func BenchmarkProxyRead(b *testing.B) {
	t := &testing.T{}
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	ctx := context.Background()
	proxyMe := func() *logical.Request {
		return &logical.Request{Operation: logical.ReadOperation, Path: "proxy/shop/me", Data: map[string]any{"fields": "id,username"}, Storage: e.storage}
	}
	for _, bc := range []struct {
		name     string
		req      func() *logical.Request
		noSocket bool
	}{
		{"token", func() *logical.Request {
			return &logical.Request{Operation: logical.ReadOperation, Path: "token/shop", Storage: e.storage}
		}, false},
		{"proxy-me", proxyMe, false},
		{"proxy-me-no-socket", proxyMe, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.noSocket {
				e.useTransport(b, handlerTransport{e.meta.Handler()})
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := e.b.HandleRequest(ctx, bc.req())
				if err != nil || resp == nil || resp.IsError() {
					b.Fatalf("%v %v", resp, err)
				}
			}
		})
	}
}

// useTransport makes the engine's calls to Meta go through rt until tb
// ends: the Meta client is rebuilt over it, and the original restored.
func (e *testEnv) useTransport(tb testing.TB, rt http.RoundTripper) {
	orig := e.b.httpClient.Transport
	e.b.httpClient.Transport = rt
	e.b.resetConfig()
	tb.Cleanup(func() {
		e.b.httpClient.Transport = orig
		e.b.resetConfig()
	})
}

// handlerTransport answers a request by calling h in the caller's
// goroutine: no socket, no connection pool.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}
