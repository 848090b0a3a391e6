//go:build ha

package ha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

const (
	pluginName = vaultproc.PluginName
	mountPath  = "instagram"
)

// findPlugin finds the Vault and plugin builds once per test binary.
var findPlugin = sync.OnceValues(func() (vaultproc.Build, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return vaultproc.Build{}, errors.New("cannot locate the ha package")
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return vaultproc.FindBuild(root, "; run `make test-ha`, which builds Vault and the plugin and sets VAULT_BIN and PLUGIN_DIR")
})

// cluster is Vault servers sharing one Raft cluster: three for HA, or one,
// a single persistent server.
type cluster struct {
	t         *testing.T
	size      int
	p         vaultproc.Build
	nodes     []*node
	unsealKey string
	rootToken string
}

// node is one Vault server: its own data directory, Raft storage, plugin
// directory and ports, kept across restarts (Raft remembers its peers by
// their cluster addresses).
type node struct {
	c           *cluster
	name        string
	dir         string
	apiPort     int
	clusterPort int
	addr        string // http://127.0.0.1:apiPort, also its api_addr
	logPath     string
	client      *api.Client

	mu   sync.Mutex
	proc *vaultproc.Process // nil while the node is down
}

// startClusterWith brings up a cluster of size nodes with build p of the
// plugin registered and mounted, and registers the cleanup that stops every
// node by its process group (plugins included). name prefixes the nodes' log files.
//
// Node 1 is initialised (one key share, threshold one: a test cluster) and
// unsealed; the others join it through sys/storage/raft/join and are
// unsealed with the same key, which completes their join. The call returns
// once all are Raft voters, so a three-node cluster keeps its quorum when
// any one node is lost.
func startClusterWith(t *testing.T, name string, size int, p vaultproc.Build) *cluster {
	t.Helper()
	c := &cluster{t: t, p: p, size: size}
	logDir := os.Getenv("HA_LOG_DIR")
	if logDir == "" {
		logDir = t.TempDir()
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	t.Cleanup(c.stopAll)

	for i := range size {
		n := &node{
			c:       c,
			name:    fmt.Sprintf("node%d", i+1),
			logPath: filepath.Join(logDir, fmt.Sprintf("vault-%s-node%d.log", name, i+1)),
		}
		n.dir = filepath.Join(dataDir, n.name)
		// Every node has its own plugin directory holding the same binary,
		// as on separate machines: the catalog entry (name, version,
		// sha256) is replicated, the binary is not.
		for _, sub := range []string{"raft", "plugins"} {
			if err := os.MkdirAll(filepath.Join(n.dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		if err := copyFile(p.PluginBin, filepath.Join(n.dir, "plugins", pluginName)); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
		n.startFirstTime()
	}

	// Initialise and unseal the first node; it becomes the active node.
	first := c.nodes[0]
	init, err := first.client.Sys().Init(&api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		c.fatalf("init %s: %v", first.name, err)
	}
	c.unsealKey, c.rootToken = init.KeysB64[0], init.RootToken
	for _, n := range c.nodes {
		n.client.SetToken(c.rootToken)
	}
	first.unseal()
	c.waitFor(60*time.Second, first.name+" to become active", func() (bool, string) {
		return first.health() == "active", first.health()
	})

	// New Raft peers join as non-voters and autopilot promotes them once
	// they have been healthy for server_stabilization_time (10 s by
	// default); a shorter time keeps the test quick.
	if _, err := first.client.Logical().Write("sys/storage/raft/autopilot/configuration", map[string]any{
		"server_stabilization_time": "2s",
	}); err != nil {
		c.fatalf("autopilot configuration: %v", err)
	}
	for _, n := range c.nodes[1:] {
		resp, err := n.client.Sys().RaftJoin(&api.RaftJoinRequest{LeaderAPIAddr: first.addr})
		if err != nil || !resp.Joined {
			c.fatalf("%s: raft join %s: %v (joined %v)", n.name, first.addr, err, resp != nil && resp.Joined)
		}
		n.unseal()
		c.waitFor(90*time.Second, n.name+" to join as a standby", func() (bool, string) {
			h := n.health()
			return h == "standby", h
		})
	}
	c.waitForVoters(90 * time.Second)

	// Register and mount the plugin once, on the active node: the catalog
	// and the mount table live in replicated storage.
	if err := p.RegisterAndMount(context.Background(), first.client.Sys(), mountPath); err != nil {
		c.fatalf("%v", err)
	}
	t.Logf("cluster up: %s; vault %s, plugin %s (logs in %s)", c.describe(), p.VaultBin, p.PluginVersion, logDir)
	return c
}

// startFirstTime starts a node that has never run, on fresh ports; a port
// taken between choosing it and Vault binding it gets another try.
func (n *node) startFirstTime() {
	c := n.c
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		var err error
		if n.apiPort, err = vaultproc.FreePort(); err == nil {
			n.clusterPort, err = vaultproc.FreePort()
		}
		if err != nil {
			c.t.Fatal(err)
		}
		n.addr = fmt.Sprintf("http://127.0.0.1:%d", n.apiPort)
		if err := n.writeConfig(); err != nil {
			c.t.Fatal(err)
		}
		n.client = newClient(c.t, n.addr)
		if lastErr = n.start(); lastErr == nil {
			return
		}
		if !vaultproc.PortTaken(n.logPath) {
			break
		}
	}
	c.fatalf("%s did not come up: %v", n.name, lastErr)
}

// writeConfig writes the node's server configuration: Raft storage in its
// data directory, a plain-HTTP loopback listener (the cluster port is
// always TLS, with certificates Vault makes itself), and its own plugin
// directory.
func (n *node) writeConfig() error {
	conf := fmt.Sprintf(`ui               = false
disable_mlock    = true
log_level        = "debug"
api_addr         = %q
cluster_addr     = %q
plugin_directory = %q

storage "raft" {
  path    = %q
  node_id = %q
  # performance_multiplier stays at its default (5): a heartbeat missed
  # for a second on a busy test machine must not depose a healthy leader.
  # A lost one is still replaced within about ten seconds.
  autopilot_update_interval    = "1s"
  autopilot_reconcile_interval = "2s"
}

listener "tcp" {
  address         = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable     = true
}
`, n.addr, fmt.Sprintf("https://127.0.0.1:%d", n.clusterPort), filepath.Join(n.dir, "plugins"),
		filepath.Join(n.dir, "raft"), n.name, n.apiPort, n.clusterPort)
	return os.WriteFile(filepath.Join(n.dir, "vault.hcl"), []byte(conf), 0o600)
}

// start launches the node's server and waits until its API answers (sealed
// or not). The log file is appended to, so a restarted node's log tells
// its whole story.
func (n *node) start() error {
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logFile, "=== ha test: starting %s at %s ===\n", n.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.c.p.VaultBin, "server", "-config="+filepath.Join(n.dir, "vault.hcl"))
	cmd.Env = vaultproc.Environ()
	vp, err := vaultproc.Start(cmd, logFile)
	if err != nil {
		return fmt.Errorf("start %s: %w", n.c.p.VaultBin, err)
	}
	n.mu.Lock()
	n.proc = vp
	n.mu.Unlock()

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-vp.Exited():
			n.mu.Lock()
			n.proc = nil
			n.mu.Unlock()
			return fmt.Errorf("%s exited before its API answered: %v", n.name, vp.Err())
		default:
		}
		if h := n.health(); h != "down" {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.stop()
	return fmt.Errorf("%s API at %s did not answer within 60s", n.name, n.addr)
}

// restart starts a node that ran before, on the same ports and data, and
// unseals it; it rejoins the Raft cluster it belonged to.
func (n *node) restart() {
	if err := n.start(); err != nil {
		n.c.fatalf("restart %s: %v", n.name, err)
	}
	n.unseal()
}

func (n *node) unseal() {
	if _, err := n.client.Sys().Unseal(n.c.unsealKey); err != nil {
		n.c.fatalf("unseal %s: %v", n.name, err)
	}
}

// health is what sys/health says of the node: active, standby, sealed,
// uninitialized, or down when it does not answer.
func (n *node) health() string {
	if !n.up() {
		return "down"
	}
	h, err := n.client.Sys().Health()
	switch {
	case err != nil:
		return "down"
	case !h.Initialized:
		return "uninitialized"
	case h.Sealed:
		return "sealed"
	case h.Standby:
		return "standby"
	}
	return "active"
}

func (n *node) up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil
}

// take marks the node down and returns its process, nil if it was down:
// of concurrent callers (stopAll, a scenario's kill) only one signals it.
func (n *node) take() *vaultproc.Process {
	n.mu.Lock()
	defer n.mu.Unlock()
	vp := n.proc
	n.proc = nil
	return vp
}

// kill loses the node: SIGKILL to Vault and its plugin processes at once.
func (n *node) kill() {
	if vp := n.take(); vp != nil {
		vp.Kill()
	}
}

// stop shuts the node down (Vault stops its plugins), then kills whatever
// is left of its process group, so no plugin process outlives the test.
func (n *node) stop() {
	vp := n.take()
	if vp == nil {
		return
	}
	if vp.Stop(15 * time.Second) {
		n.c.t.Logf("%s (pid %d) ignored SIGTERM for 15s; killing it", n.name, vp.Pid())
	}
}

// stopAll stops every node at once: one by one, the last standing would
// wait on a lost quorum.
func (c *cluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.stop()
		}()
	}
	wg.Wait()
}

// active waits until exactly one running node is active and every other
// running node is an unsealed standby, and returns the active one.
func (c *cluster) active(timeout time.Duration) *node {
	c.t.Helper()
	var found *node
	c.waitFor(timeout, "one active node and standbys", func() (bool, string) {
		found = nil
		var states []string
		ok := true
		for _, n := range c.nodes {
			h := n.health()
			states = append(states, n.name+"="+h)
			switch h {
			case "active":
				if found != nil {
					ok = false
				}
				found = n
			case "standby", "down":
			default:
				ok = false
			}
		}
		return ok && found != nil, strings.Join(states, " ")
	})
	return found
}

// standbys are the running nodes other than active.
func (c *cluster) standbys(active *node) []*node {
	var out []*node
	for _, n := range c.nodes {
		if n != active && n.up() {
			out = append(out, n)
		}
	}
	return out
}

// running are the nodes that are up.
func (c *cluster) running() []*node {
	var out []*node
	for _, n := range c.nodes {
		if n.up() {
			out = append(out, n)
		}
	}
	return out
}

// waitForVoters waits until autopilot reports a healthy cluster in which
// every node is a voter.
func (c *cluster) waitForVoters(timeout time.Duration) {
	c.t.Helper()
	c.waitFor(timeout, fmt.Sprintf("%d healthy Raft voters", c.size), func() (bool, string) {
		for _, n := range c.running() {
			st, err := n.client.Sys().RaftAutopilotState()
			if err != nil || st == nil {
				continue
			}
			return st.Healthy && len(st.Voters) == c.size,
				fmt.Sprintf("healthy=%v voters=%v leader=%s", st.Healthy, st.Voters, st.Leader)
		}
		return false, "no node answered sys/storage/raft/autopilot/state"
	})
}

func (c *cluster) describe() string {
	var parts []string
	for _, n := range c.nodes {
		parts = append(parts, fmt.Sprintf("%s %s (cluster :%d) %s", n.name, n.addr, n.clusterPort, n.health()))
	}
	return strings.Join(parts, ", ")
}

// waitFor polls cond every half second until it holds, or fails the test
// with what cond last said and every node's log tail. Polling a real
// cluster is the one place the suite waits on the wall clock.
func (c *cluster) waitFor(timeout time.Duration, what string, cond func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.fatalf("gave up after %s waiting for %s; last: %s", timeout, what, state)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// fatalf fails the test with the tail of every node's log, where the
// reason usually is.
func (c *cluster) fatalf(format string, args ...any) {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "\n--- last lines of %s (%s) ---\n%s", n.logPath, n.name, vaultproc.Tail(n.logPath, 30))
	}
	c.t.Fatal(b.String())
}

// newClient returns an API client for one node, immune to the developer's
// VAULT_* environment, without retries (a retried write would re-send an
// authorization code the first try consumed) and without following
// redirects: a standby must forward a request to the active node itself,
// not send the client there.
func newClient(t *testing.T, addr string) *api.Client {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	cfg.DisableRedirects = true
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearNamespace()
	c.ClearToken()
	return c
}

// copyFile copies the plugin binary into a node's own plugin directory.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// countLines counts the lines of a file that contain every one of subs.
func countLines(path string, subs ...string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		all := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				all = false
				break
			}
		}
		if all {
			n++
		}
	}
	return n
}
