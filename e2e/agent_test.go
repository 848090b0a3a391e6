//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// TestVaultAgentRendersRefreshedToken runs `vault agent` (the same binary
// as the server) with the template from the README and shows that a manual
// refresh reaches the rendered file within the token read's ttl, although
// token/<name> is not a leased secret.
//
// consul-template, which renders Vault Agent's templates, re-reads a
// non-leased secret after its "ttl" only when the response also carries
// "rotation_period"; otherwise it waits template_config's
// static_secret_render_interval (5 minutes by default). The test sets that
// interval to 10 minutes and renders two cubbyhole secrets beside the
// token, both with ttl 30, one with rotation_period and one without: the
// first must follow its ttl like the token, the second must not, which
// proves the rule on this Vault rather than taking it from the source.
func TestVaultAgentRendersRefreshedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}

	const ttl = 30 // config max_token_ttl, its minimum
	first := e.registerNotDue("demo")
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"max_token_ttl": ttl}); err != nil {
		e.fatalf("write config max_token_ttl: %v", err)
	}
	s, err := e.root.Logical().Read(mountPath + "/token/demo")
	if err != nil || s == nil {
		e.fatalf("read token/demo: %v", err)
	}
	if got := toInt64(t, s.Data["ttl"]); got != ttl {
		t.Fatalf("token/demo ttl = %d, want max_token_ttl %d", got, ttl)
	}
	if s.Data["rotation_period"] == nil {
		t.Fatal("token/demo carries no rotation_period; Vault Agent would ignore its ttl")
	}

	// The agent authenticates with an application's token: the example
	// policy, plus "default" for looking itself up (and its cubbyhole).
	app := e.clientWithPolicyFile("instagram-app", true)
	writeCubbyhole := func(path string, data map[string]any) {
		t.Helper()
		if _, err := app.Logical().Write("cubbyhole/"+path, data); err != nil {
			e.fatalf("write cubbyhole/%s: %v", path, err)
		}
	}
	writeCubbyhole("rotating", map[string]any{"value": "v1", "ttl": ttl, "rotation_period": 3600})
	writeCubbyhole("plain", map[string]any{"value": "v1", "ttl": ttl})

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "vault-token")
	if err := os.WriteFile(tokenFile, []byte(app.Token()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{
		"token":    filepath.Join(dir, "instagram-token"),
		"rotating": filepath.Join(dir, "rotating"),
		"plain":    filepath.Join(dir, "plain"),
	}
	config := fmt.Sprintf(`
vault {
  address = %q
}

auto_auth {
  method "token_file" {
    config = {
      token_file_path = %q
    }
  }
}

template_config {
  static_secret_render_interval = "10m"
}

template {
  destination = %q
  contents    = "{{ with secret \"instagram/token/demo\" }}{{ .Data.access_token }}{{ end }}"
}

template {
  destination = %q
  contents    = "{{ with secret \"cubbyhole/rotating\" }}{{ .Data.value }}{{ end }}"
}

template {
  destination = %q
  contents    = "{{ with secret \"cubbyhole/plain\" }}{{ .Data.value }}{{ end }}"
}
`, e.addr, tokenFile, out["token"], out["rotating"], out["plain"])
	configFile := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	agent := startAgent(t, e, p.VaultBin, configFile)
	rendered := func(name string) string {
		data, err := os.ReadFile(out[name])
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}

	// The first render.
	agent.waitFor("the first render", 60*time.Second, func() bool {
		return rendered("token") == first && rendered("rotating") == "v1" && rendered("plain") == "v1"
	})
	firstRender := time.Now()
	t.Logf("the agent rendered the token %s after it started", firstRender.Sub(agent.started).Round(time.Millisecond))

	// Change all three.
	if _, err := e.root.Logical().Write(mountPath+"/accounts/demo/refresh", nil); err != nil {
		e.fatalf("refresh demo: %v", err)
	}
	refreshed := time.Now()
	second := e.readToken(e.root, "demo").accessToken
	if second == first {
		t.Fatal("the manual refresh did not change the token")
	}
	writeCubbyhole("rotating", map[string]any{"value": "v2", "ttl": ttl, "rotation_period": 3600})
	writeCubbyhole("plain", map[string]any{"value": "v2", "ttl": ttl})

	// The token must be re-rendered by the agent's next read, ttl (+1 s)
	// after its previous one; 90 s leaves a wide margin on a busy machine.
	agent.waitFor("the refreshed token to be rendered", 90*time.Second, func() bool {
		return rendered("token") == second
	})
	delay := time.Since(refreshed)
	t.Logf("the agent rendered the refreshed token %s after the refresh, %s after its first render (ttl %ds)",
		delay.Round(time.Millisecond), time.Since(firstRender).Round(time.Millisecond), ttl)
	agent.waitFor("the rotating control to be re-rendered", 30*time.Second, func() bool {
		return rendered("rotating") == "v2"
	})

	// The control without rotation_period, read at the same time as the
	// others, is past its ttl by a wide margin and still not re-read.
	if wait := time.Until(firstRender.Add(ttl*time.Second + 20*time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	if got := rendered("plain"); got != "v1" {
		t.Errorf("the secret without rotation_period was re-rendered (%q) within %s: the agent honoured its ttl after all", got, time.Since(firstRender).Round(time.Second))
	} else {
		t.Logf("the secret without rotation_period was still not re-read %s after the first render", time.Since(firstRender).Round(time.Second))
	}
}

type agentProc struct {
	*vaultproc.Process
	t       *testing.T
	e       *env
	logPath string
	started time.Time
}

// startAgent runs `vault agent -config=FILE` in a process group of its own;
// the cleanup stops the group and scans the agent's log for secrets.
func startAgent(t *testing.T, e *env, vaultBin, configFile string) *agentProc {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(e.logPath), "vault-agent-"+strings.ReplaceAll(t.Name(), "/", "_")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vaultBin, "agent", "-config="+configFile, "-log-level=trace")
	cmd.Env = vaultproc.Environ()
	proc, err := vaultproc.Start(cmd, logFile)
	if err != nil {
		t.Fatalf("start vault agent: %v", err)
	}
	a := &agentProc{Process: proc, t: t, e: e, logPath: logPath, started: time.Now()}
	t.Cleanup(func() {
		if a.Stop(10 * time.Second) {
			t.Logf("vault agent (pid %d) ignored SIGTERM for 10s; killing it", a.Pid())
		}
		a.checkLogForSecrets()
	})
	return a
}

// waitFor polls cond until it holds, failing with the agent log's tail
// after timeout or if the agent exits.
func (a *agentProc) waitFor(what string, timeout time.Duration, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-a.Exited():
			a.t.Fatalf("vault agent exited (%v) while waiting for %s\n--- last lines of %s ---\n%s", a.Err(), what, a.logPath, vaultproc.Tail(a.logPath, 40))
		default:
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("gave up after %s waiting for %s\n--- last lines of %s ---\n%s", timeout, what, a.logPath, vaultproc.Tail(a.logPath, 40))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkLogForSecrets: the agent logs at trace level; none of the test's
// secrets (Instagram tokens, the app secret) may be in it. The agent runs no
// plugin, so its log has no plugin lines to require.
func (a *agentProc) checkLogForSecrets() {
	leaks, _, err := a.e.secrets.ScanLog(a.logPath, "the Vault Agent log "+a.logPath)
	if err != nil {
		a.t.Error(err)
		return
	}
	for _, l := range leaks {
		a.t.Error(l)
	}
}
