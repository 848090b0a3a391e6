package vaultproc

import (
	"slices"
	"strings"
	"testing"
)

func TestEnvironDropsVaultVariables(t *testing.T) {
	t.Setenv("VAULT_ADDR", "https://vault.example.com")
	t.Setenv("VAULT_TOKEN", "hvs.developer")
	t.Setenv("VAULTPROC_TEST_KEEP", "1")
	env := Environ()
	for _, kv := range env {
		if strings.HasPrefix(kv, "VAULT_") {
			t.Errorf("Environ kept %s", kv)
		}
	}
	if !slices.Contains(env, "VAULTPROC_TEST_KEEP=1") {
		t.Error("Environ dropped a variable that is not VAULT_*")
	}
}
