package vaultproc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"
)

// pluginBinarySHA is the SHA-256 of "plugin binary" (sha256sum).
const pluginBinarySHA = "062fe192389ca66290320cc0af9cf2d3d0326687375f047dde9537f3bcfb7198"

func TestFindBuild(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"bin/vault", "plugins/" + PluginName} {
		path := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("plugin binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := FileSHA256(filepath.Join(root, "plugins", PluginName))
	if err != nil || sum != pluginBinarySHA {
		t.Fatalf("FileSHA256 = %s, %v; want %s", sum, err, pluginBinarySHA)
	}

	// Relative paths are from root, not from the working directory.
	t.Setenv("VAULT_BIN", "bin/vault")
	t.Setenv("PLUGIN_DIR", "plugins")
	t.Setenv("PLUGIN_VERSION", "v1.2.3")
	t.Setenv("PLUGIN_SHA256", "")
	b, err := FindBuild(root, "; build them")
	if err != nil {
		t.Fatal(err)
	}
	want := Build{
		VaultBin:      filepath.Join(root, "bin", "vault"),
		PluginDir:     filepath.Join(root, "plugins"),
		PluginBin:     filepath.Join(root, "plugins", PluginName),
		PluginVersion: "v1.2.3",
		PluginSHA256:  sum,
	}
	if b != want {
		t.Errorf("FindBuild = %+v, want %+v", b, want)
	}

	// A PLUGIN_SHA256 that does not match: the binary changed.
	t.Setenv("PLUGIN_SHA256", strings.Repeat("0", 64))
	if _, err := FindBuild(root, "; build them"); err == nil || !strings.Contains(err.Error(), "changed after the build; build them") {
		t.Errorf("FindBuild with a stale PLUGIN_SHA256: %v", err)
	}
	t.Setenv("PLUGIN_SHA256", sum)
	if _, err := FindBuild(root, ""); err != nil {
		t.Errorf("FindBuild with the right PLUGIN_SHA256: %v", err)
	}

	// Missing binaries say how to build them.
	t.Setenv("VAULT_BIN", filepath.Join(root, "nope"))
	if _, err := FindBuild(root, "; build them"); err == nil || !strings.HasPrefix(err.Error(), "vault binary: ") || !strings.HasSuffix(err.Error(), "; build them") {
		t.Errorf("FindBuild without Vault: %v", err)
	}
	t.Setenv("VAULT_BIN", "bin/vault")
	t.Setenv("PLUGIN_DIR", filepath.Join(root, "bin"))
	if _, err := FindBuild(root, "; build them"); err == nil || !strings.HasPrefix(err.Error(), "plugin binary: ") {
		t.Errorf("FindBuild without the plugin: %v", err)
	}
}

// catalogRecorder stands in for Vault's API: it records the body of each
// request by path and answers 204.
type catalogRecorder struct {
	mu     sync.Mutex
	bodies map[string]map[string]any
}

func (c *catalogRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	c.mu.Lock()
	c.bodies[r.Method+" "+r.URL.Path] = body
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func registerWith(t *testing.T, env ...string) map[string]map[string]any {
	t.Helper()
	rec := &catalogRecorder{bodies: map[string]map[string]any{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := api.DefaultConfig()
	cfg.Address = srv.URL
	cfg.MaxRetries = 0
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := Build{PluginVersion: "v1.2.3", PluginSHA256: pluginBinarySHA}
	if err := b.RegisterAndMount(context.Background(), client.Sys(), "instagram", env...); err != nil {
		t.Fatal(err)
	}
	return rec.bodies
}

// TestRegisterAndMountHandsThePluginItsEnvironment: the env given is
// registered with the plugin (Vault's catalog adds it to the plugin
// process's environment: the benchmark's SSL_CERT_FILE); without it the
// registration carries no env, as before, and the mount is the same.
func TestRegisterAndMountHandsThePluginItsEnvironment(t *testing.T) {
	const catalog = "PUT /v1/sys/plugins/catalog/secret/" + PluginName
	const mount = "POST /v1/sys/mounts/instagram"

	got := registerWith(t, "SSL_CERT_FILE=/x/fakemeta-ca.pem")
	env, _ := got[catalog]["env"].([]any)
	if !slices.Equal(env, []any{"SSL_CERT_FILE=/x/fakemeta-ca.pem"}) {
		t.Errorf("registered env %v", got[catalog]["env"])
	}
	if got[catalog]["sha256"] != pluginBinarySHA || got[catalog]["version"] != "v1.2.3" {
		t.Errorf("registration %v", got[catalog])
	}
	if got[mount]["type"] != PluginName {
		t.Errorf("mount %v", got[mount])
	}

	got = registerWith(t)
	if e, ok := got[catalog]["env"]; ok {
		t.Errorf("registered env %v without any given", e)
	}
	if got[catalog]["sha256"] != pluginBinarySHA || got[mount]["type"] != PluginName {
		t.Errorf("registration %v, mount %v", got[catalog], got[mount])
	}
}
