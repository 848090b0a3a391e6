//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

const (
	pluginName   = "vault-plugin-secrets-instagram"
	mountPath    = "instagram"
	rootToken    = "root"
	vaultVersion = "1.21.0" // the default of scripts/build-vault.sh
)

// plugin is what registration needs, found once per test binary.
type plugin struct {
	vaultBin string
	dir      string
	bin      string
	version  string // "": take the version the binary reports
	sha256   string
}

var findPlugin = sync.OnceValues(func() (plugin, error) {
	root, err := repoRoot()
	if err != nil {
		return plugin{}, err
	}
	// go test runs in e2e/, so relative paths are taken from the repository
	// root, where a developer typing them is.
	fromRoot := func(path string) string {
		if filepath.IsAbs(path) {
			return path
		}
		return filepath.Join(root, path)
	}
	p := plugin{
		vaultBin: fromRoot(envOr("VAULT_BIN", filepath.Join(".cache", "vault", vaultVersion, "vault"))),
		dir:      fromRoot(envOr("PLUGIN_DIR", filepath.Join(".cache", "plugins"))),
	}
	hint := "; run `make test-e2e`, which builds Vault and the plugin and sets VAULT_BIN and PLUGIN_DIR"
	if _, err := os.Stat(p.vaultBin); err != nil {
		return p, fmt.Errorf("vault binary: %w%s", err, hint)
	}
	p.bin = filepath.Join(p.dir, pluginName)
	f, err := os.Open(p.bin)
	if err != nil {
		return p, fmt.Errorf("plugin binary: %w%s", err, hint)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return p, err
	}
	p.sha256 = hex.EncodeToString(h.Sum(nil))
	if want := os.Getenv("PLUGIN_SHA256"); want != "" && want != p.sha256 {
		return p, fmt.Errorf("%s has sha256 %s, PLUGIN_SHA256 says %s: the binary changed after the build%s", p.bin, p.sha256, want, hint)
	}
	// Without a version, Vault registers the binary under the version it
	// reports itself, and the mount pins the latest registered one.
	p.version = os.Getenv("PLUGIN_VERSION")
	return p, nil
})

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the e2e package")
	}
	return filepath.Dir(filepath.Dir(file)), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// secrets is a test's registry of every secret value it handed to or got
// from the engine. After Vault stops, its log must contain none of them.
type secrets struct {
	mu     sync.Mutex
	labels map[string]string // value -> what it is
}

func (s *secrets) add(label, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Very short values would match by accident; none of ours are short.
	if len(value) >= 8 {
		if s.labels == nil {
			s.labels = map[string]string{}
		}
		s.labels[value] = label
	}
	return value
}

func (s *secrets) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.labels))
	for v, l := range s.labels {
		out[v] = l
	}
	return out
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
	secrets     *secrets
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

	e := &env{t: t, secrets: &secrets{}, appID: "e2e-app-" + randHex(4)}
	appSecret := e.secrets.add("app secret", "e2e-secret-"+randHex(16))
	e.appSecret = appSecret

	e.fake = graphtest.New(graphtest.Options{AppID: e.appID, AppSecret: appSecret})
	t.Cleanup(e.fake.Close)

	vp := startVault(t, p)
	e.addr, e.logPath = vp.addr, vp.logPath
	t.Cleanup(func() {
		vp.stop(t)
		e.checkLogForSecrets()
	})
	e.redirectURI = e.addr + "/v1/" + mountPath + "/callback"

	e.root = e.client(rootToken)
	sys := e.root.Sys()
	if err := sys.RegisterPlugin(&api.RegisterPluginInput{
		Name:    pluginName,
		Type:    api.PluginTypeSecrets,
		Command: pluginName,
		SHA256:  p.sha256,
		Version: p.version,
	}); err != nil {
		e.fatalf("register plugin %s %s: %v", pluginName, p.version, err)
	}
	if err := sys.Mount(mountPath, &api.MountInput{
		Type:   pluginName,
		Config: api.MountConfigInput{PluginVersion: p.version},
	}); err != nil {
		e.fatalf("mount %s at %s/: %v", pluginName, mountPath, err)
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
	e.t.Fatalf("%s\n--- last lines of %s ---\n%s", fmt.Sprintf(format, args...), e.logPath, tail(e.logPath, 40))
}

func (e *env) addUser(username string) graphtest.User {
	u := e.fake.AddUser(username)
	e.users = append(e.users, u)
	return u
}

// mintCode has the fake issue an authorization code for u, as Instagram does
// when the user consents, bound to the engine's redirect URI.
func (e *env) mintCode(u graphtest.User, scopes ...string) string {
	return e.secrets.add("authorization code for "+u.Username, e.fake.MintCode(u.UserID, scopes, e.redirectURI))
}

func (e *env) mintLongLived(u graphtest.User, issuedAt time.Time, scopes ...string) string {
	return e.secrets.add("long-lived token for "+u.Username, e.fake.MintLongLivedToken(u.UserID, scopes, issuedAt))
}

func (e *env) currentToken(u graphtest.User) string {
	return e.secrets.add("current token for "+u.Username, e.fake.CurrentToken(u.UserID))
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
		t.Logf("Vault log contains none of the %d secrets this test used", len(e.secrets.snapshot()))
	}
}

// logLeaks scans the Vault log for every registered secret and describes
// each hit, with the line (the value masked) to say where it leaked.
func (e *env) logLeaks() ([]string, error) {
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		return nil, fmt.Errorf("read Vault log: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	// The scan proves nothing unless the plugin's own log lines reach the
	// file: go-plugin relays them with the plugin's name and a timestamp=
	// field, and the plugin logs at least its mTLS setup at debug.
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(l, pluginName) && strings.Contains(l, "timestamp=")
	}) {
		return nil, fmt.Errorf("Vault log %s has no line from the plugin process; the leak check would mean nothing", e.logPath)
	}
	var leaks []string
	for value, label := range e.secrets.snapshot() {
		for i, line := range lines {
			if strings.Contains(line, value) {
				leaks = append(leaks, fmt.Sprintf("Vault log leaks the %s at line %d: %s", label, i+1, strings.ReplaceAll(line, value, "<"+label+">")))
			}
		}
	}
	sort.Strings(leaks)
	return leaks, nil
}

// --- the Vault process ---

type vaultProc struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	exited  chan struct{}
	err     error // set before exited closes
}

// startVault starts a dev server on a free loopback port, retrying with
// another port if one was taken between choosing it and Vault binding it
// (parallel tests race for ports), and waits until it is unsealed and active.
func startVault(t *testing.T, p plugin) *vaultProc {
	t.Helper()
	logDir := os.Getenv("E2E_LOG_DIR")
	if logDir == "" {
		logDir = t.TempDir()
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
		logPath := filepath.Join(logDir, fmt.Sprintf("vault-%s-%d.log", name, attempt))
		vp, err := launchVault(p, logPath)
		if err != nil {
			t.Fatal(err)
		}
		err = vp.waitHealthy(60 * time.Second)
		if err == nil {
			version := p.version
			if version == "" {
				version = "(the version it reports)"
			}
			t.Logf("vault %s up at %s (log %s), plugin %s", p.vaultBin, vp.addr, logPath, version)
			return vp
		}
		vp.stop(t)
		lastErr = fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logPath, tail(logPath, 40))
		if !strings.Contains(tail(logPath, 40), "address already in use") {
			break
		}
	}
	t.Fatalf("vault did not come up: %v", lastErr)
	return nil
}

func launchVault(p plugin, logPath string) (*vaultProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(p.vaultBin, "server", "-dev",
		"-dev-root-token-id="+rootToken,
		"-dev-listen-address="+addr,
		"-dev-plugin-dir="+p.dir,
		// Do not overwrite the developer's ~/.vault-token.
		"-dev-no-store-token",
		// Trace, so that whatever the plugin logs, at any level, lands in
		// the file the leak check scans.
		"-log-level=trace",
	)
	cmd.Env = vaultEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", p.vaultBin, err)
	}
	vp := &vaultProc{cmd: cmd, addr: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	go func() {
		vp.err = cmd.Wait()
		logFile.Close()
		close(vp.exited)
	}()
	return vp, nil
}

// vaultEnv is this process's environment without VAULT_* variables: a
// developer's VAULT_ADDR, VAULT_TOKEN or VAULT_NAMESPACE must not steer the
// server (or the plugin, which inherits Vault's environment).
func vaultEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			out = append(out, kv)
		}
	}
	return out
}

func (vp *vaultProc) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-vp.exited:
			return fmt.Errorf("vault exited before it was healthy: %v", vp.err)
		default:
		}
		// 200 means initialized, unsealed and active.
		resp, err := hc.Get(vp.addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-vp.exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("vault at %s not healthy after %s", vp.addr, timeout)
}

// stop asks Vault to shut down (it stops its plugins), then kills whatever is
// left of its process group, so no plugin process outlives the test.
func (vp *vaultProc) stop(t *testing.T) {
	pid := vp.cmd.Process.Pid
	terminateGroup(pid)
	select {
	case <-vp.exited:
	case <-time.After(15 * time.Second):
		t.Logf("vault (pid %d) ignored SIGTERM for 15s; killing it", pid)
	}
	killGroup(pid)
	<-vp.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// --- helpers for the tests ---

// statusOf is the HTTP status of a Vault API error, 0 if err is not one.
func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// errorText is what Vault said, for checking that a 400 names the field.
func errorText(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return strings.Join(re.Errors, "; ")
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

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
