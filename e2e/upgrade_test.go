//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// upgradeVersion is the version the test builds a second plugin binary
// with. Only this test's Vault ever sees it.
const upgradeVersion = "v9.9.9-e2e.upgrade"

// TestPluginVersionReloadAndUpgrade checks what an operator sees of the
// plugin's version, then does what an operator does to a running engine:
// (a) `vault plugin reload`, and (b) an upgrade to a new binary
// (`vault plugin register -version`, `vault secrets tune -plugin-version`,
// reload), then (c) a roll-back to the first version. After each the plugin
// process is new, every account and token is still served, and the refresh
// schedule was rebuilt from storage.
func TestPluginVersionReloadAndUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}

	// The version the binary was built with (PLUGIN_VERSION), as the
	// catalog, `vault plugin info`, the mount and the engine report it.
	first := e.mountVersion()
	if p.PluginVersion != "" && first.running != p.PluginVersion {
		t.Errorf("sys/mounts running_plugin_version = %q, want the build's %q", first.running, p.PluginVersion)
	}
	if first.running == "" || first.pinned != first.running || first.sha256 != p.PluginSHA256 {
		t.Errorf("sys/mounts: plugin_version %q, running_plugin_version %q, running_sha256 %q; want the registered %q and sha256 %s",
			first.pinned, first.running, first.sha256, p.PluginVersion, p.PluginSHA256)
	}
	e.checkPluginInfo(first.running, p.PluginSHA256)
	if st := e.status(); st["version"] != first.running {
		t.Errorf("status version = %v, want %q", st["version"], first.running)
	}

	// Three accounts of different ages, none due, so nothing refreshes
	// them while the test runs.
	names := []string{"alpha", "beta", "gamma"}
	tokens := map[string]string{}
	for i, name := range names {
		u := e.addUser(name + "_owner")
		issued := time.Now().Add(-time.Duration(2+4*i) * 24 * time.Hour).Truncate(time.Second)
		tok := e.mintLongLived(u, issued, basicScopes...)
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
			"access_token": tok,
			"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
		}); err != nil {
			e.fatalf("register %s: %v", name, err)
		}
		tokens[name] = tok
	}
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"max_token_ttl": 120}); err != nil {
		e.fatalf("write config: %v", err)
	}
	before := e.status()
	if toInt64(t, before["accounts_total"]) != int64(len(names)) || optTime(t, before["next_refresh_at"]).IsZero() {
		t.Fatalf("status before the reload: %v", before)
	}

	// waitForRestart waits until a plugin process of version started after
	// startedBefore answers and has rebuilt its schedule from storage: the
	// rebuild runs in the background after start-up, so status counts the
	// accounts a moment after the plugin first answers.
	waitForRestart := func(what string, startedBefore time.Time, version string) {
		t.Helper()
		var last map[string]any
		e.eventually(what+" to answer with its schedule rebuilt", 60*time.Second, func() bool {
			st, err := e.tryStatus()
			if err != nil {
				return false
			}
			last = st
			return st["version"] == version && optTime(t, st["started_at"]).After(startedBefore) &&
				fmt.Sprint(st["accounts_total"]) == fmt.Sprint(before["accounts_total"]) &&
				st["next_refresh_at"] == before["next_refresh_at"]
		}, func() string { return fmt.Sprintf("last status: %v; before: %v", last, before) })
	}

	// everythingStillThere checks the accounts, tokens, config and the
	// rebuilt schedule after a restart of the plugin.
	everythingStillThere := func(when string) {
		t.Helper()
		if got := e.listAccounts(); !slices.Equal(got, names) {
			t.Errorf("%s: accounts/ = %v, want %v", when, got, names)
		}
		for _, name := range names {
			if got := e.readToken(e.root, name); got.accessToken != tokens[name] {
				t.Errorf("%s: token/%s is not the registered token", when, name)
			}
			if acct := e.readAccount(e.root, name); acct["status"] != "valid" {
				t.Errorf("%s: accounts/%s status = %v", when, name, acct["status"])
			}
		}
		cfg, err := e.root.Logical().Read(mountPath + "/config")
		if err != nil || cfg == nil || toInt64(t, cfg.Data["max_token_ttl"]) != 120 || cfg.Data["app_id"] != e.appID {
			t.Errorf("%s: config = %v, %v", when, cfg, err)
		}
		st := e.status()
		for _, k := range []string{"accounts_total", "accounts_valid", "next_refresh_at"} {
			if fmt.Sprint(st[k]) != fmt.Sprint(before[k]) {
				t.Errorf("%s: status %s = %v, was %v: the schedule was not rebuilt from storage", when, k, st[k], before[k])
			}
		}
	}

	// (a) vault plugin reload -plugin=vault-plugin-secrets-instagram
	startedBefore := optTime(t, before["started_at"])
	nextSecond(startedBefore)
	if _, err := e.root.Sys().ReloadPlugin(&api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		e.fatalf("reload plugin %s: %v", pluginName, err)
	}
	waitForRestart("the reloaded plugin", startedBefore, first.running)
	everythingStillThere("after vault plugin reload")
	if got := e.mountVersion(); got != first {
		t.Errorf("after a reload the mount reports %+v, want %+v (unchanged)", got, first)
	}

	// (b) Upgrade: a second build of the plugin with another version, in
	// the plugin directory under its own file name, registered with its
	// own sha256 and version, pinned on the mount, then reloaded.
	bin, sha := buildPluginVersion(t, p.PluginDir, upgradeVersion)
	if err := e.root.Sys().RegisterPlugin(&api.RegisterPluginInput{
		Name:    pluginName,
		Type:    api.PluginTypeSecrets,
		Command: filepath.Base(bin),
		SHA256:  sha,
		Version: upgradeVersion,
	}); err != nil {
		e.fatalf("register %s %s: %v", pluginName, upgradeVersion, err)
	}
	e.checkPluginInfo(upgradeVersion, sha)
	e.checkPluginInfo(first.running, p.PluginSHA256) // both versions stay registered
	v := upgradeVersion
	if err := e.root.Sys().TuneMountAllowNil(mountPath, api.TuneMountConfigInput{PluginVersion: &v}); err != nil {
		e.fatalf("vault secrets tune -plugin-version=%s %s/: %v", upgradeVersion, mountPath, err)
	}
	startedBefore = optTime(t, e.status()["started_at"])
	nextSecond(startedBefore)
	if _, err := e.root.Sys().ReloadPlugin(&api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		e.fatalf("reload plugin %s: %v", pluginName, err)
	}
	waitForRestart("the upgraded plugin", startedBefore, upgradeVersion)
	everythingStillThere("after the upgrade to " + upgradeVersion)
	want := mountVersion{pinned: upgradeVersion, running: upgradeVersion, sha256: sha}
	if got := e.mountVersion(); got != want {
		t.Errorf("after the upgrade the mount reports %+v, want %+v", got, want)
	}
	t.Logf("upgraded %s/ from %s to %s; %d accounts and their tokens kept, schedule rebuilt (next refresh %v)",
		mountPath, first.running, upgradeVersion, len(names), before["next_refresh_at"])

	// (c) Roll back: pin the first version again and reload.
	v = first.running
	if err := e.root.Sys().TuneMountAllowNil(mountPath, api.TuneMountConfigInput{PluginVersion: &v}); err != nil {
		e.fatalf("vault secrets tune -plugin-version=%s %s/: %v", first.running, mountPath, err)
	}
	startedBefore = optTime(t, e.status()["started_at"])
	nextSecond(startedBefore)
	if _, err := e.root.Sys().ReloadPlugin(&api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		e.fatalf("reload plugin %s: %v", pluginName, err)
	}
	waitForRestart("the rolled-back plugin", startedBefore, first.running)
	everythingStillThere("after rolling back to " + first.running)
	if got := e.mountVersion(); got != first {
		t.Errorf("after the roll-back the mount reports %+v, want %+v", got, first)
	}
}

// nextSecond waits until the second after ts has begun: status answers
// started_at to the second, so only a plugin started after that reads as
// started later.
func nextSecond(ts time.Time) {
	time.Sleep(time.Until(ts.Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
}

type mountVersion struct{ pinned, running, sha256 string }

// mountVersion is what `vault secrets list -detailed` shows for the mount.
func (e *env) mountVersion() mountVersion {
	e.t.Helper()
	mounts, err := e.root.Sys().ListMounts()
	if err != nil {
		e.fatalf("list mounts: %v", err)
	}
	m, ok := mounts[mountPath+"/"]
	if !ok {
		e.fatalf("no %s/ in sys/mounts", mountPath)
	}
	return mountVersion{pinned: m.PluginVersion, running: m.RunningVersion, sha256: m.RunningSha256}
}

// checkPluginInfo checks the catalog entry through the API and through
// `vault plugin info -version=V secret NAME`, as an operator would.
func (e *env) checkPluginInfo(version, sha string) {
	e.t.Helper()
	info, err := e.root.Sys().GetPluginWithContext(context.Background(), &api.GetPluginInput{
		Name: pluginName, Type: api.PluginTypeSecrets, Version: version,
	})
	if err != nil {
		e.fatalf("GET sys/plugins/catalog/secret/%s?version=%s: %v", pluginName, version, err)
	}
	if info.Version != version || info.SHA256 != sha {
		e.t.Errorf("catalog entry for %s: version %q sha256 %q, want %q %q", version, info.Version, info.SHA256, version, sha)
	}

	p, _ := findPlugin()
	cmd := exec.Command(p.VaultBin, "plugin", "info", "-format=json", "-version="+version, "secret", pluginName)
	cmd.Env = append(vaultproc.Environ(), "VAULT_ADDR="+e.addr, "VAULT_TOKEN="+rootToken)
	out, err := cmd.Output()
	if err != nil {
		e.fatalf("vault plugin info -version=%s: %v", version, err)
	}
	var cli struct {
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
	}
	if err := json.Unmarshal(out, &cli); err != nil {
		e.fatalf("vault plugin info -format=json: %v: %s", err, out)
	}
	if cli.Version != version || cli.SHA256 != sha {
		e.t.Errorf("vault plugin info -version=%s shows version %q sha256 %q, want %q %q", version, cli.Version, cli.SHA256, version, sha)
	}
}

func (e *env) status() map[string]any {
	e.t.Helper()
	st, err := e.tryStatus()
	if err != nil {
		e.fatalf("read status: %v", err)
	}
	return st
}

// tryStatus reads status, for polling while the plugin restarts.
func (e *env) tryStatus() (map[string]any, error) {
	s, err := e.root.Logical().Read(mountPath + "/status")
	if err == nil && s == nil {
		err = fmt.Errorf("no data")
	}
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}

// eventually polls cond every 200 ms, failing after timeout with what
// detail says. cond must treat Vault's errors while the plugin restarts as
// "not yet".
func (e *env) eventually(what string, timeout time.Duration, cond func() bool, detail func() string) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.fatalf("gave up after %s waiting for %s; %s", timeout, what, detail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// buildPluginVersion builds the plugin from this checkout with another
// version baked in, as scripts/build-plugin.sh does, into dir under a name
// of its own (removed when the test ends), and returns its path and sha256.
func buildPluginVersion(t *testing.T, dir, version string) (string, string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, pluginName+"-upgrade-"+vaultproc.RandHex(4))
	t.Cleanup(func() { os.Remove(bin) })
	start := time.Now()
	b, err := vaultproc.BuildPlugin(root, "", bin, version)
	if err != nil {
		t.Fatalf("build the plugin as %s: %v", version, err)
	}
	t.Logf("built %s as %s in %s", filepath.Base(bin), version, time.Since(start).Round(time.Millisecond))
	return b.PluginBin, b.PluginSHA256
}
