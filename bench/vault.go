package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	pluginName     = "vault-plugin-secrets-instagram"
	nullPluginName = "vault-plugin-secrets-null"
	rootToken      = "root"
)

// builds is what the benchmark runs: Vault, and both plugins in one plugin
// directory with their checksums.
type builds struct {
	vaultBin      string
	pluginDir     string
	pluginVersion string
	pluginSHA     string
	nullSHA       string
}

// buildAll builds Vault (cached by its script), our plugin (its script, into
// the benchmark's own plugin directory so a concurrent `make test-e2e` keeps
// its binary) and the null plugin.
func buildAll(root, pluginDir string) (builds, error) {
	var b builds
	out, err := runScript(root, nil, "scripts/build-vault.sh")
	if err != nil {
		return b, err
	}
	b.vaultBin = strings.TrimSpace(out)

	out, err = runScript(root, []string{"PLUGIN_DIR=" + pluginDir}, "scripts/build-plugin.sh")
	if err != nil {
		return b, err
	}
	vars := parseShellAssignments(out)
	b.pluginDir, b.pluginVersion, b.pluginSHA = vars["PLUGIN_DIR"], vars["PLUGIN_VERSION"], vars["PLUGIN_SHA256"]
	if b.pluginDir == "" || b.pluginVersion == "" || b.pluginSHA == "" {
		return b, fmt.Errorf("build-plugin.sh printed no PLUGIN_DIR/PLUGIN_VERSION/PLUGIN_SHA256:\n%s", out)
	}

	nullBin := filepath.Join(b.pluginDir, nullPluginName)
	tmp := nullBin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "./bench/nullplugin")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return b, fmt.Errorf("build null plugin: %w", err)
	}
	if err := os.Rename(tmp, nullBin); err != nil {
		return b, err
	}
	b.nullSHA, err = fileSHA256(nullBin)
	return b, err
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

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// vaultProc is the dev server under test.
type vaultProc struct {
	cmd     *exec.Cmd
	addr    string // http://127.0.0.1:PORT
	logPath string
	exited  chan struct{}
	err     error
}

// startVault starts `vault server -dev` on a free loopback port with the
// plugin directory, retrying on another port if the chosen one was taken in
// between, and waits until it is active.
func startVault(b builds, logPath string) (*vaultProc, error) {
	var lastErr error
	for range 3 {
		vp, err := launchVault(b, logPath)
		if err != nil {
			return nil, err
		}
		if err = vp.waitHealthy(60 * time.Second); err == nil {
			return vp, nil
		}
		vp.stop()
		lastErr = err
		logTail, _ := os.ReadFile(logPath)
		if !bytes.Contains(logTail, []byte("address already in use")) {
			break
		}
	}
	return nil, fmt.Errorf("vault did not come up (log %s): %w", logPath, lastErr)
}

func launchVault(b builds, logPath string) (*vaultProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(b.vaultBin, "server", "-dev",
		"-dev-root-token-id="+rootToken,
		"-dev-listen-address="+addr,
		"-dev-plugin-dir="+b.pluginDir,
		"-dev-no-store-token",
		// Warnings only: per-request info logging (the plugin logs each
		// registration) would be measured too.
		"-log-level=warn",
	)
	cmd.Env = withoutVaultEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", b.vaultBin, err)
	}
	vp := &vaultProc{cmd: cmd, addr: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	go func() {
		vp.err = cmd.Wait()
		logFile.Close()
		close(vp.exited)
	}()
	return vp, nil
}

// withoutVaultEnv drops VAULT_* so a developer's VAULT_ADDR or VAULT_TOKEN
// steers neither the server nor the plugins it starts.
func withoutVaultEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "VAULT_") {
			out = append(out, kv)
		}
	}
	return out
}

func (vp *vaultProc) waitHealthy(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-vp.exited:
			return fmt.Errorf("vault exited: %v", vp.err)
		default:
		}
		if resp, err := hc.Get(vp.addr + "/v1/sys/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("vault at %s not healthy after %s", vp.addr, timeout)
		case <-vp.exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks Vault to shut down (it stops its plugins), then kills whatever
// is left of its process group.
func (vp *vaultProc) stop() {
	pid := vp.cmd.Process.Pid
	terminateGroup(pid)
	select {
	case <-vp.exited:
	case <-time.After(15 * time.Second):
	}
	killGroup(pid)
	<-vp.exited
}

func (vp *vaultProc) pid() int { return vp.cmd.Process.Pid }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
