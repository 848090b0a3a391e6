// Command nullplugin is the benchmark's ceiling: the smallest external Vault
// secrets plugin on the same SDK as vault-plugin-secrets-instagram, served
// the same way (plugin.ServeMultiplex). Whatever a read of its token/<name>
// costs is what Vault, go-plugin's gRPC and the SDK's framework cost; the
// instagram plugin's token/<name> can only be slower by what it does itself.
//
// The constant token/<name> answer is the JSON object in the environment
// variable NULLPLUGIN_RESPONSE, which the benchmark sets at registration to
// the instagram mount's own token/shop answer, so fields and sizes match.
// LIST keys/ answers the first page (nullbackend.FirstPage) of the names of
// NULLPLUGIN_LIST_KEYS accounts as the benchmark names them (the keys themselves would overflow an environment
// variable). See bench/nullbackend for the paths.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"

	"github.com/igvault/vault-plugin-secrets-instagram/bench/nullbackend"
)

const (
	responseEnv = "NULLPLUGIN_RESPONSE"
	listKeysEnv = "NULLPLUGIN_LIST_KEYS"
)

func main() {
	apiClientMeta := &api.PluginAPIClientMeta{}
	flags := apiClientMeta.FlagSet()
	if err := flags.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	tlsProviderFunc := api.VaultPluginTLSProvider(apiClientMeta.GetTLSConfig())
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		TLSProviderFunc:    tlsProviderFunc,
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("null plugin shutting down", "error", err)
	os.Exit(1)
}

func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	constant := map[string]any{"access_token": "null"}
	if raw := os.Getenv(responseEnv); raw != "" {
		var err error
		if constant, err = nullbackend.DecodeResponse([]byte(raw)); err != nil {
			return nil, fmt.Errorf("%s: %w", responseEnv, err)
		}
	}
	n := 0
	if raw := os.Getenv(listKeysEnv); raw != "" {
		var err error
		if n, err = strconv.Atoi(raw); err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a count", listKeysEnv, raw)
		}
	}
	b := nullbackend.New(constant, nullbackend.FirstPage(n))
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}
