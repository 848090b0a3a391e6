//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

const (
	pluginName = vaultproc.PluginName
	mountPath  = "instagram"
	rootToken  = "root"
)

// findPlugin finds the Vault and plugin builds once per test binary.
var findPlugin = sync.OnceValues(func() (vaultproc.Build, error) {
	root, err := repoRoot()
	if err != nil {
		return vaultproc.Build{}, err
	}
	return vaultproc.FindBuild(root, "; run `make test-e2e`, which builds Vault and the plugin and sets VAULT_BIN and PLUGIN_DIR")
})

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the e2e package")
	}
	return filepath.Dir(filepath.Dir(file)), nil
}

// env is one test's world: a Vault server with the plugin mounted and
// configured, a fake Meta, and the secrets registry.
type env struct {
	t           *testing.T
	addr        string // http://127.0.0.1:PORT
	root        *api.Client
	fake        *graphtest.Server
	appID       string
	appSecret   string // to sign Meta's signed_requests
	redirectURI string
	logPath     string
	secrets     *vaultproc.Secrets
	users       []graphtest.User
}

// newEnv starts everything and registers the cleanups: stop Vault (its whole
// process group, plugin included), then scan its log for leaked secrets,
// then close the fake.
func newEnv(t *testing.T) *env {
	t.Helper()
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, p)
}

// newEnvWith is newEnv with another build of the plugin (a test build with
// build tags of its own).
func newEnvWith(t *testing.T, p vaultproc.Build) *env {
	t.Helper()
	e := &env{t: t, secrets: &vaultproc.Secrets{}, appID: "e2e-app-" + vaultproc.RandHex(4)}
	appSecret := e.secrets.Add("app secret", "e2e-secret-"+vaultproc.RandHex(16))
	e.appSecret = appSecret

	e.fake = graphtest.New(graphtest.Options{AppID: e.appID, AppSecret: appSecret})
	t.Cleanup(e.fake.Close)

	vault := startVault(t, p)
	e.addr, e.logPath = vault.Addr, vault.LogPath
	t.Cleanup(func() {
		stopVault(t, vault)
		e.checkLogForSecrets()
	})
	e.redirectURI = e.addr + "/v1/" + mountPath + "/callback"

	e.root = e.client(rootToken)
	if err := p.RegisterAndMount(context.Background(), e.root.Sys(), mountPath); err != nil {
		e.fatalf("%v", err)
	}

	ep := e.fake.Endpoints()
	cfg := map[string]any{
		"app_id":                  e.appID,
		"app_secret":              appSecret,
		"redirect_uri":            e.redirectURI,
		"auth_base_url":           ep.AuthBaseURL,
		"api_base_url":            ep.APIBaseURL,
		"graph_base_url":          ep.GraphBaseURL,
		"facebook_auth_base_url":  ep.FacebookAuthBaseURL,
		"facebook_graph_base_url": ep.FacebookGraphBaseURL,
	}
	if ep.Version != "" {
		cfg["graph_api_version"] = ep.Version
	}
	if _, err := e.root.Logical().Write(mountPath+"/config", cfg); err != nil {
		e.fatalf("write config: %v", err)
	}
	return e
}

// client returns an API client for this Vault with the given token, immune
// to the developer's VAULT_* environment and without retries: a retried
// write would re-send an authorization code that the first try consumed.
func (e *env) client(token string) *api.Client {
	e.t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = e.addr
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetToken(token)
	c.ClearNamespace()
	return c
}

// fatalf fails the test with the tail of the Vault log, where the reason
// usually is (plugin crashed, registration refused, ...).
func (e *env) fatalf(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s\n--- last lines of %s ---\n%s", fmt.Sprintf(format, args...), e.logPath, vaultproc.Tail(e.logPath, 40))
}

func (e *env) addUser(username string) graphtest.User {
	u := e.fake.AddUser(username)
	e.users = append(e.users, u)
	return u
}

// mintCode has the fake issue an authorization code for u, as Instagram does
// when the user consents, bound to the engine's redirect URI.
func (e *env) mintCode(u graphtest.User, scopes ...string) string {
	return e.secrets.Add("authorization code for "+u.Username, e.fake.MintCode(u.UserID, scopes, e.redirectURI))
}

func (e *env) mintLongLived(u graphtest.User, issuedAt time.Time, scopes ...string) string {
	return e.secrets.Add("long-lived token for "+u.Username, e.fake.MintLongLivedToken(u.UserID, scopes, issuedAt))
}

func (e *env) currentToken(u graphtest.User) string {
	return e.secrets.Add("current token for "+u.Username, e.fake.CurrentToken(u.UserID))
}

// checkLogForSecrets runs after Vault has stopped, so the log is complete.
func (e *env) checkLogForSecrets() {
	t := e.t
	// Tokens the fake issued that the test never looked at (a refresh, an
	// exchange) count too.
	for _, u := range e.users {
		e.currentToken(u)
	}
	leaks, err := e.logLeaks()
	if err != nil {
		t.Error(err)
		return
	}
	for _, l := range leaks {
		t.Error(l)
	}
	if len(leaks) == 0 {
		t.Logf("Vault log contains none of the %d secrets this test used", len(e.secrets.Snapshot()))
	}
}

// logLeaks scans the Vault log for every registered secret and describes
// each hit, with the line (the value masked) to say where it leaked.
func (e *env) logLeaks() ([]string, error) {
	leaks, pluginLines, err := e.secrets.ScanLog(e.logPath, "Vault log")
	if err != nil {
		return nil, fmt.Errorf("read Vault log: %w", err)
	}
	// The trace log level (startVault) lets the plugin's mTLS setup at
	// debug through, so a log without a plugin line means the plugin's
	// lines do not reach it, and a clean scan would mean nothing.
	if pluginLines == 0 {
		return nil, fmt.Errorf("Vault log %s has no line from the plugin process; the leak check would mean nothing", e.logPath)
	}
	return leaks, nil
}

// --- the Vault process ---

// startVault starts a dev server with the plugin directory and waits until
// it is unsealed and active. Its logs go to E2E_LOG_DIR if set, one per
// attempt (a port clash gets another), else to the test's temporary
// directory.
func startVault(t *testing.T, p vaultproc.Build) *vaultproc.Dev {
	t.Helper()
	logDir := os.Getenv("E2E_LOG_DIR")
	if logDir == "" {
		logDir = t.TempDir()
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	vault, err := vaultproc.StartDev(vaultproc.DevServer{
		VaultBin:  p.VaultBin,
		PluginDir: p.PluginDir,
		RootToken: rootToken,
		// Trace, so that whatever the plugin logs, at any level, lands in
		// the file the leak check scans.
		LogLevel: "trace",
		LogPath: func(attempt int) string {
			return filepath.Join(logDir, fmt.Sprintf("vault-%s-%d.log", name, attempt))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	version := p.PluginVersion
	if version == "" {
		version = "(the version it reports)"
	}
	t.Logf("vault %s up at %s (log %s), plugin %s", p.VaultBin, vault.Addr, vault.LogPath, version)
	return vault
}

// stopVault stops Vault and its plugin processes, so none outlives the test.
func stopVault(t *testing.T, vault *vaultproc.Dev) {
	if vault.Stop(15 * time.Second) {
		t.Logf("vault (pid %d) ignored SIGTERM for 15s; killing it", vault.Pid())
	}
}

// --- helpers for the tests ---

// rawRead returns the whole HTTP body of a read, so that "never contains the
// token" is checked on everything Vault sends, warnings included.
func (e *env) rawRead(c *api.Client, path string) (int, string) {
	e.t.Helper()
	resp, err := c.Logical().ReadRawWithContext(context.Background(), path)
	if resp == nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read %s body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

func sortedStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			out = append(out, fmt.Sprint(x))
		}
	}
	sort.Strings(out)
	return out
}
