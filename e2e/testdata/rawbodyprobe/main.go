// Command rawbodyprobe is a throwaway Vault plugin that only
// e2e/rawbody_test.go builds and runs: it answers what an external plugin
// receives of an unauthenticated POST, so that the test can tell whether a
// webhook signed over its raw body (Meta's X-Hub-Signature-256) could be
// verified inside a plugin. It is never shipped: go build ./... skips
// testdata.
package main

import (
	"context"
	"encoding/json"
	"io"
	"os"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
)

func main() {
	meta := &api.PluginAPIClientMeta{}
	if err := meta.FlagSet().Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		TLSProviderFunc:    api.VaultPluginTLSProvider(meta.GetTLSConfig()),
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("probe shutting down", "error", err)
	os.Exit(1)
}

// factory mounts two unauthenticated paths: "json", an ordinary path whose
// body Vault parses, and "binary", declared in PathsSpecial.Binary, whose
// body a built-in backend would get unparsed in HTTPRequest.
func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &framework.Backend{
		BackendType: logical.TypeLogical,
		PathsSpecial: &logical.Paths{
			Unauthenticated: []string{"json", "binary"},
			Binary:          []string{"binary"},
		},
		Paths: []*framework.Path{
			{
				Pattern: "(json|binary)",
				// No declared fields: whatever Vault hands over is in
				// req.Data as is.
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.UpdateOperation: &framework.PathOperation{Callback: observe},
				},
			},
		},
	}
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

// observe answers what reached the plugin: req.Data (its keys and
// json.Marshal of it, the closest a plugin can come to "the body"), the
// request headers, and whether an HTTP request, and so a raw body, came
// with it.
func observe(_ context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	reencoded, err := json.Marshal(req.Data)
	if err != nil {
		return nil, err
	}
	keys := []string{}
	for k := range req.Data {
		keys = append(keys, k)
	}
	headers := map[string][]string{}
	for k, v := range req.Headers {
		headers[k] = v
	}
	out := map[string]any{
		"data_keys":        keys,
		"data_reencoded":   string(reencoded),
		"headers":          headers,
		"has_http_request": req.HTTPRequest != nil,
		"raw_body":         "",
	}
	if req.HTTPRequest != nil && req.HTTPRequest.Body != nil {
		raw, err := io.ReadAll(io.LimitReader(req.HTTPRequest.Body, 1<<16))
		if err != nil {
			return nil, err
		}
		out["raw_body"] = string(raw)
	}
	return &logical.Response{Data: out}, nil
}
