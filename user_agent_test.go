package instagram

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestMetaCallsCarryVaultsPluginUserAgent: every call the engine makes to
// Meta says, in the SDK's plugin form, which Vault it runs in (from the
// plugin environment Vault gives it), which plugin and which version.
func TestMetaCallsCarryVaultsPluginUserAgent(t *testing.T) {
	e := newTestEnv(t)
	e.b.System().(*logical.StaticSystemView).PluginEnvironment = &logical.PluginEnvironment{
		VaultVersion:           "1.21.3",
		VaultVersionPrerelease: "rc1",
	}
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.clock.Advance(25 * time.Hour) // Instagram refreshes a token only once it is a day old
	e.mustOK(e.write("accounts/shop/refresh", nil))

	want := "Vault/1.21.3-rc1 (+https://www.vaultproject.io/; vault-plugin-secrets-instagram/" + Version + "; " + runtime.Version() + ")"
	if got := e.meta.UserAgents(); !slices.Equal(got, []string{want}) {
		t.Fatalf("Meta received User-Agents %q, want only %q", got, want)
	}
}

// TestMetaCallsNameThePluginWithoutAPluginEnvironment: where Vault gives no
// plugin environment, the calls still name the plugin and its version.
func TestMetaCallsNameThePluginWithoutAPluginEnvironment(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")

	want := "vault-plugin-secrets-instagram/" + Version
	if got := e.meta.UserAgents(); !slices.Equal(got, []string{want}) {
		t.Fatalf("Meta received User-Agents %q, want only %q", got, want)
	}
}
