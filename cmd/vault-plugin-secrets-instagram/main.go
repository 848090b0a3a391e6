// Command vault-plugin-secrets-instagram is the Vault plugin binary. Vault starts
// it as a child process and talks to it over gRPC; one process serves every
// mount of the plugin (multiplexing).
package main

import (
	"os"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/plugin"

	instagram "github.com/igvault/vault-plugin-secrets-instagram"
)

func main() {
	apiClientMeta := &api.PluginAPIClientMeta{}
	flags := apiClientMeta.FlagSet()
	if err := flags.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}

	tlsConfig := apiClientMeta.GetTLSConfig()
	tlsProviderFunc := api.VaultPluginTLSProvider(tlsConfig)

	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: instagram.Factory,
		// Vault negotiates the plugin protocol over AutoMTLS; the TLS
		// provider only matters for very old servers, kept for parity with
		// HashiCorp's own plugins.
		TLSProviderFunc: tlsProviderFunc,
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("plugin shutting down", "error", err)
	os.Exit(1)
}
