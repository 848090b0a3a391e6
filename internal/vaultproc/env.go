package vaultproc

import (
	"os"
	"strings"
)

// Environ is this process's environment without VAULT_* variables, for the
// Vault processes it starts: a developer's VAULT_ADDR, VAULT_TOKEN or
// VAULT_NAMESPACE must not steer a server, an agent, or the plugins, which
// inherit Vault's environment.
func Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			out = append(out, kv)
		}
	}
	return out
}
