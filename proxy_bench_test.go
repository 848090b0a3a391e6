package instagram

import (
	"context"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// BenchmarkProxyRead is a proxied Graph read in process (the fake on
// loopback answering at once) beside a token read of the same account:
// what the proxy costs the plugin itself, without Vault's HTTP and gRPC
// hops. `go test -run '^$' -bench ProxyRead -benchmem .`
func BenchmarkProxyRead(b *testing.B) {
	t := &testing.T{}
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		req  func() *logical.Request
	}{
		{"token", func() *logical.Request {
			return &logical.Request{Operation: logical.ReadOperation, Path: "token/shop", Storage: e.storage}
		}},
		{"proxy-me", func() *logical.Request {
			return &logical.Request{Operation: logical.ReadOperation, Path: "proxy/shop/me", Data: map[string]any{"fields": "id,username"}, Storage: e.storage}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
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
