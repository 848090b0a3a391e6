package instagram

import (
	"context"

	"github.com/hashicorp/vault/sdk/helper/useragent"
)

// pluginName is the plugin's name in the User-Agent of its calls to Meta.
const pluginName = "vault-plugin-secrets-instagram"

// userAgent is what the engine's calls to Meta say they come from, as
// HashiCorp's own plugins say it (useragent.PluginString): the running
// Vault's version, from the environment Vault gives its plugins, then this
// plugin's name and version, e.g.
//
//	Vault/1.21.3 (+https://www.vaultproject.io/; vault-plugin-secrets-instagram/v1.2.0; go1.25.5)
//
// When Vault does not say (no system view, or no environment), the plugin's
// name and version alone. It costs a call to Vault, so it is asked only when
// the Meta client is built (metaFor, once per config).
func (b *backend) userAgent(ctx context.Context) string {
	name := pluginName + "/" + Version
	sys := b.System()
	if sys == nil {
		return name
	}
	env, err := sys.PluginEnv(ctx)
	if err != nil {
		return name
	}
	if ua := useragent.PluginString(env, name); ua != "" {
		return ua
	}
	return name
}
