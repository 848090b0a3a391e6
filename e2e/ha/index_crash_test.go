//go:build ha

package ha

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// crashpointsVersion is what the crash test's build of the plugin reports.
const crashpointsVersion = "v0.0.0-crashpoints"

// TestServerKilledBetweenIndexAndAccountWrites kills a lone Vault server
// (SIGKILL) while two account writes stand between their two steps: the
// schedule index record is stored (pending), the account is not. One is the
// periodic refresh of a due account, whose new record says "due in a
// month" while the stored account is still due now; the other a new
// registration, whose account never reaches storage. The plugin is built
// with the crashpoints tag, which blocks exactly those writes there
// (crashpoint_on.go). After the restart every stored account is in the
// schedule (status counts them, the lost refresh is done again), and the
// registration that never stored its account is not listed, not readable,
// and leaves the schedule at the first periodic run.
func TestServerKilledBetweenIndexAndAccountWrites(t *testing.T) {
	p := buildCrashpointsPlugin(t)
	w := newWorldWith(t, "indexcrash", 1, p)
	c := w.c
	srv := c.active(30 * time.Second)

	// The crash points, through the catalog: a reload gives the plugin
	// process the environment registered with it. due1's second write
	// (its registration is the first) is its refresh.
	const spec = "after-index-write:due1@2,fresh"
	setPluginEnv(t, srv, p, "INSTAGRAM_CRASHPOINT="+spec)
	w.configure(srv, srv.addr+"/v1/"+mountPath+"/callback")

	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	w.registerLongLived(srv, "steady", 0, time.Now().Add(-time.Hour).Truncate(time.Second))
	w.registerLongLived(srv, "due0", 1, issued)
	// due1: refreshed once before the crash (the answer is lost with
	// the write) and once after.
	w.registerLongLived(srv, "due1", 2, issued)

	fresh := w.meta.AddUser("fresh_owner")
	freshToken := w.secrets.Add("long-lived token for fresh", w.meta.MintLongLivedToken(fresh.UserID, basicScopes, time.Now().Add(-time.Hour)))
	go func() {
		// Held at the crash point until Vault dies: this write never
		// answers.
		_, _ = srv.client.Logical().Write(mountPath+"/accounts/fresh", map[string]any{"access_token": freshToken})
	}()
	c.waitFor(periodicWait, "both writes to reach the crash point", func() (bool, string) {
		var at []string
		for _, name := range []string{"due1", "fresh"} {
			if countLines(srv.logPath, "crash point reached", "account="+name) > 0 {
				at = append(at, name)
			}
		}
		return len(at) == 2, fmt.Sprintf("at the crash point: %v", at)
	})
	// The restart must not stop there again.
	setPluginEnv(t, srv, p)
	killedAt := time.Now()
	srv.kill()
	srv.restart()
	srv = c.active(60 * time.Second)
	t.Logf("restarted and unsealed %s after the crash", time.Since(killedAt).Round(100*time.Millisecond))

	// Listed: the stored accounts, not the registration that stored
	// none, even before the first periodic run forgets it.
	stored := []string{"due0", "due1", "steady"}
	s, err := srv.client.Logical().List(mountPath + "/accounts")
	if err != nil || s == nil {
		c.fatalf("list accounts after the restart: %v", err)
	}
	var listed []string
	for _, k := range s.Data["keys"].([]any) {
		listed = append(listed, k.(string))
	}
	if !slices.Equal(listed, stored) {
		t.Errorf("accounts after the restart: %v, want %v", listed, stored)
	}
	if s, err := srv.client.Logical().Read(mountPath + "/accounts/fresh"); err == nil && s != nil {
		t.Errorf("accounts/fresh after the restart: %v; its account was never stored", s.Data)
	}

	// Every stored account is scheduled: due1, whose index record said
	// "due in a month" (pending) while the stored account was due, is
	// refreshed again; the schedule ends with exactly the stored three.
	c.waitFor(periodicWait, "the restarted server to refresh due1 again", func() (bool, string) {
		done := w.refreshedAsWanted(w.names)
		return len(done) == len(w.names), fmt.Sprintf("refreshed as often as wanted at Meta: %v of %v", done, w.names)
	})
	c.waitFor(periodicWait, "the schedule to hold the stored accounts only", func() (bool, string) {
		got := toInt64(w.status(srv)["accounts_total"])
		return got == int64(len(stored)), fmt.Sprintf("accounts_total %d, want %d", got, len(stored))
	})
	t.Logf("due1 refreshed again and fresh forgotten %s after the crash", time.Since(killedAt).Round(time.Second))
	w.waitForCurrentTokens(w.names, 30*time.Second)
	w.assertRefreshCounts(w.names)
	for _, name := range w.names {
		w.assertAccountHealthy(srv, name)
	}
}

// buildCrashpointsPlugin builds the plugin with the crashpoints tag, as
// crashpointsVersion, into a directory of its own.
func buildCrashpointsPlugin(t *testing.T) vaultproc.Build {
	t.Helper()
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	start := time.Now()
	b, err := vaultproc.BuildPlugin(root, p.VaultBin, filepath.Join(t.TempDir(), pluginName), crashpointsVersion, "crashpoints")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built the plugin with crash points in %s", time.Since(start).Round(time.Millisecond))
	return b
}

// setPluginEnv registers p again with env as its environment and reloads
// the plugin, so that its new process has it.
func setPluginEnv(t *testing.T, n *node, p vaultproc.Build, env ...string) {
	t.Helper()
	ctx := context.Background()
	if err := p.Register(ctx, n.client.Sys(), env...); err != nil {
		n.c.fatalf("%v (env %q)", err, strings.Join(env, " "))
	}
	if len(env) == 0 {
		// Kept for the next start; the running process keeps its crash
		// points until Vault is killed.
		return
	}
	if _, err := n.client.Sys().ReloadPluginWithContext(ctx, &api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		n.c.fatalf("reload %s: %v", pluginName, err)
	}
}
