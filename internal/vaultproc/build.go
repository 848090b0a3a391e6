package vaultproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GoBuild builds pkg (a package path from root, such as ./cmd/x) into out
// with go build -trimpath and args (-tags, -ldflags), through a temporary
// name, so that a failed build leaves no half-written binary. The error
// holds go's output.
func GoBuild(root, out, pkg string, args ...string) error {
	tmp := out + ".tmp"
	argv := append(append([]string{"build", "-trimpath"}, args...), "-o", tmp, pkg)
	cmd := exec.Command("go", argv...)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return os.Rename(tmp, out)
}

// BuildPlugin builds the plugin from the checkout at root into bin with
// version stamped in, as scripts/build-plugin.sh does, and the build tags
// given (a test build: a settable clock, crash points), and returns it as
// a Build for vaultBin, its plugin directory bin's.
func BuildPlugin(root, vaultBin, bin, version string, tags ...string) (Build, error) {
	args := []string{"-ldflags", "-s -w -X github.com/igvault/vault-plugin-secrets-instagram.Version=" + version}
	if len(tags) > 0 {
		args = append([]string{"-tags", strings.Join(tags, ",")}, args...)
	}
	if err := GoBuild(root, bin, "./cmd/"+PluginName, args...); err != nil {
		return Build{}, err
	}
	sum, err := FileSHA256(bin)
	if err != nil {
		return Build{}, err
	}
	return Build{VaultBin: vaultBin, PluginDir: filepath.Dir(bin), PluginBin: bin, PluginVersion: version, PluginSHA256: sum}, nil
}
