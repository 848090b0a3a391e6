//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// TestLeakCheckFindsAPlantedSecret keeps the log scan honest: a value that
// Vault does write to its log (a mount path, logged on "successful mount")
// must be reported, or every other test's "no leak" means nothing.
func TestLeakCheckFindsAPlantedSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	planted := "planted-" + vaultproc.RandHex(8)
	e.secrets.Add("planted value", planted)
	if err := e.root.Sys().Mount(planted, &api.MountInput{Type: "kv"}); err != nil {
		e.fatalf("mount kv at %s: %v", planted, err)
	}

	leaks, err := e.logLeaks()
	if err != nil {
		t.Fatal(err)
	}
	if len(leaks) == 0 || !strings.Contains(strings.Join(leaks, "\n"), "planted value") {
		t.Fatalf("the leak check did not find a value Vault logged; found: %q", leaks)
	}
	for _, l := range leaks {
		if strings.Contains(l, planted) {
			t.Errorf("the leak report repeats the leaked value: %s", l)
		}
	}

	// Forget it, so this test's own cleanup scan passes.
	e.secrets.Forget(planted)
}
