package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

const (
	pluginName     = vaultproc.PluginName
	nullPluginName = "vault-plugin-secrets-null"
	rootToken      = "root"
)

// builds is what the benchmark runs: Vault and our plugin, the null plugin
// in the same plugin directory with its checksum, and the fake Meta's
// command.
type builds struct {
	vaultproc.Build
	nullSHA     string
	fakeMetaBin string
}

// buildAll builds Vault (cached by its script), our plugin (its script, into
// the benchmark's own plugin directory, work/plugins, so a concurrent `make
// test-e2e` keeps its binary), the null plugin beside it and the fakemeta
// command into work.
func buildAll(root, work string) (builds, error) {
	var b builds
	pluginDir := filepath.Join(work, "plugins")
	out, err := runScript(root, nil, "scripts/build-vault.sh")
	if err != nil {
		return b, err
	}
	b.VaultBin = strings.TrimSpace(out)

	out, err = runScript(root, []string{"PLUGIN_DIR=" + pluginDir}, "scripts/build-plugin.sh")
	if err != nil {
		return b, err
	}
	vars := parseShellAssignments(out)
	b.PluginDir, b.PluginVersion, b.PluginSHA256 = vars["PLUGIN_DIR"], vars["PLUGIN_VERSION"], vars["PLUGIN_SHA256"]
	if b.PluginDir == "" || b.PluginVersion == "" || b.PluginSHA256 == "" {
		return b, fmt.Errorf("build-plugin.sh printed no PLUGIN_DIR/PLUGIN_VERSION/PLUGIN_SHA256:\n%s", out)
	}

	b.PluginBin = filepath.Join(b.PluginDir, pluginName)

	nullBin := filepath.Join(b.PluginDir, nullPluginName)
	if err := vaultproc.GoBuild(root, nullBin, "./bench/nullplugin", "-ldflags", "-s -w"); err != nil {
		return b, err
	}
	if b.nullSHA, err = vaultproc.FileSHA256(nullBin); err != nil {
		return b, err
	}
	b.fakeMetaBin = filepath.Join(work, "fakemeta")
	return b, vaultproc.GoBuild(root, b.fakeMetaBin, "./graph/graphtest/cmd/fakemeta", "-ldflags", "-s -w")
}

// runScript runs a repository script and returns its stdout; its stderr
// (progress) passes through.
func runScript(root string, env []string, script string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(root, script), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return stdout.String(), nil
}

// parseShellAssignments reads NAME=value lines as printed by bash's
// `printf %q`: backslash escapes are undone; $'...' quoting (only used for
// control characters, which our values never hold) is taken literally.
func parseShellAssignments(s string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || k == "" {
			continue
		}
		var b strings.Builder
		esc := false
		for _, r := range v {
			if !esc && r == '\\' {
				esc = true
				continue
			}
			esc = false
			b.WriteRune(r)
		}
		out[k] = b.String()
	}
	return out
}

// startVault starts `vault server -dev` with the plugin directory and
// waits until it is active; the caller stops it.
func startVault(b builds, logPath string) (*vaultproc.Dev, error) {
	return vaultproc.StartDev(vaultproc.DevServer{
		VaultBin:  b.VaultBin,
		PluginDir: b.PluginDir,
		RootToken: rootToken,
		// Warnings only: per-request info logging (the plugin logs each
		// registration) would be measured too.
		LogLevel: "warn",
		// One log: a retry after a port clash starts it afresh.
		LogPath: func(int) string { return logPath },
	})
}
