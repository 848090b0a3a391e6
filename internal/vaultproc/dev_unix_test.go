//go:build unix

package vaultproc

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeVaultScript stands in for `vault server -dev`: its first start
// exits 1 at once, like the dev server that once died right after mounting
// secret/ on a loaded CI machine, leaving no error in its log; later starts
// serve sys/health (the test binary again, as TestFakeVaultHealth) on the
// -dev-listen-address given, until stopped.
const fakeVaultScript = `#!/bin/sh
if [ ! -f "$FAKEVAULT_STARTED" ]; then
  : > "$FAKEVAULT_STARTED"
  echo "core: successful mount: path=secret/"
  exit 1
fi
for a in "$@"; do
  case "$a" in -dev-listen-address=*) FAKEVAULT_ADDR="${a#*=}";; esac
done
export FAKEVAULT_ADDR
exec "$FAKEVAULT_TESTBIN" -test.run='^TestFakeVaultHealth$'
`

// TestStartDevRetriesAServerThatExitsBeforeItIsHealthy: a dev server that
// exits before it answers sys/health, for whatever reason Vault had, gets
// another start, and each attempt keeps its own log.
func TestStartDevRetriesAServerThatExitsBeforeItIsHealthy(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vault")
	if err := os.WriteFile(bin, []byte(fakeVaultScript), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKEVAULT_STARTED", filepath.Join(dir, "started"))
	t.Setenv("FAKEVAULT_TESTBIN", self)

	d, err := StartDev(DevServer{
		VaultBin: bin, PluginDir: dir, RootToken: "root", LogLevel: "trace",
		LogPath: func(attempt int) string { return filepath.Join(dir, "vault-"+string(rune('0'+attempt))+".log") },
	})
	if err != nil {
		t.Fatalf("a second start would have been healthy: %v", err)
	}
	defer d.Stop(0)
	if !strings.HasSuffix(d.LogPath, "vault-2.log") {
		t.Errorf("healthy on %s, want the second attempt's log", d.LogPath)
	}
	if first, _ := os.ReadFile(filepath.Join(dir, "vault-1.log")); !strings.Contains(string(first), "secret/") {
		t.Errorf("the first attempt's log was not kept: %q", first)
	}
}

// TestFakeVaultHealth is the healthy half of fakeVaultScript, run only
// through it.
func TestFakeVaultHealth(t *testing.T) {
	addr := os.Getenv("FAKEVAULT_ADDR")
	if addr == "" {
		t.Skip("run by fakeVaultScript")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/sys/health" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	}))
}

// TestStartDevGivesUpOnAServerThatAlwaysExits: three attempts, then the
// error, with the end of the last attempt's log.
func TestStartDevGivesUpOnAServerThatAlwaysExits(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vault")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho \"start $$\"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := StartDev(DevServer{
		VaultBin: bin, PluginDir: dir, RootToken: "root", LogLevel: "trace",
		LogPath: func(attempt int) string { return filepath.Join(dir, "vault-"+string(rune('0'+attempt))+".log") },
	})
	if err == nil || !strings.Contains(err.Error(), "vault-3.log") || !strings.Contains(err.Error(), "start ") {
		t.Fatalf("err = %v; want the third attempt's failure with its log", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "vault-4.log")); statErr == nil {
		t.Fatal("a fourth attempt was made")
	}
}
