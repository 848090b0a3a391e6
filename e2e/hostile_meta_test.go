//go:build e2e

package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// TestRedirectingMetaHostGetsNothingOnRealVault (issue 22, finding 8): a
// configured host answering a code exchange with a 307 to another server
// makes the registration fail naming the redirecting host; the other server
// is never called, so the code and the app secret go nowhere else.
func TestRedirectingMetaHostGetsNothingOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"IGAAstolen","user_id":1}`))
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"api_base_url": redirector.URL}); err != nil {
		e.fatalf("config: %v", err)
	}

	u := e.addUser("redirected_owner")
	code := e.mintCode(u, basicScopes...)
	_, err := e.root.Logical().Write(mountPath+"/accounts/redirected", map[string]any{"code": code})
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadGateway {
		e.fatalf("registration through a redirecting host: %v, want a 502", err)
	}
	host := strings.TrimPrefix(redirector.URL, "http://")
	if msg := err.Error(); !strings.Contains(msg, host) || !strings.Contains(msg, "redirect") {
		t.Fatalf("the refusal does not name the redirecting host %s: %s", host, msg)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the server redirected to was called %d times", n)
	}
}

// TestHugeMetaErrorIsCutOnRealVault (issue 22, finding 7): a 900 KB error
// message from Meta on a refresh reaches the manual refresh's answer, the
// account's last_error and Vault's log cut to a few KiB.
func TestHugeMetaErrorIsCutOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser("huge_error_owner")
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/huge", map[string]any{
		"access_token": e.mintLongLived(u, issued, basicScopes...),
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register: %v", err)
	}
	logBefore := fileSize(t, e.logPath)

	e.fake.Fail(graphtest.EndpointRefresh, 1, graphtest.GraphError(2, 0, "OAuthException", strings.Repeat("é", 450_000)))
	_, err := e.root.Logical().Write(mountPath+"/accounts/huge/refresh", nil)
	if err == nil {
		e.fatalf("the refresh succeeded through Meta's error")
	}
	if len(err.Error()) > 8<<10 {
		t.Fatalf("the manual refresh answered %d bytes", len(err.Error()))
	}
	if got, _ := e.readAccount(e.root, "huge")["last_error"].(string); len(got) > 4<<10 || !strings.Contains(got, "éé") {
		t.Fatalf("last_error holds %d bytes", len(got))
	}
	if grown := fileSize(t, e.logPath) - logBefore; grown > 64<<10 {
		t.Fatalf("Vault's log grew by %d bytes for one failed refresh", grown)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestPinnedBaseURLsOnRealVault (issue 22): registered with
// -env VAULT_INSTAGRAM_PIN_BASE_URLS=1 and reloaded, the plugin refuses a
// config write pointing a base URL anywhere but Meta's default, even from
// root, and the config stored before the pin (the fake's URLs) sends
// nothing: status says why.
func TestPinnedBaseURLsOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.root.Sys().RegisterPluginWithContext(ctx, &api.RegisterPluginInput{
		Name: vaultproc.PluginName, Type: api.PluginTypeSecrets, Command: vaultproc.PluginName,
		SHA256: p.PluginSHA256, Version: p.PluginVersion, Env: []string{"VAULT_INSTAGRAM_PIN_BASE_URLS=1"},
	}); err != nil {
		e.fatalf("register with -env: %v", err)
	}
	if _, err := e.root.Sys().ReloadPluginWithContext(ctx, &api.ReloadPluginInput{Plugin: vaultproc.PluginName}); err != nil {
		e.fatalf("reload: %v", err)
	}

	var re *api.ResponseError
	e.waitFor("the reloaded plugin to refuse a proxy base URL", func() bool {
		_, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"graph_base_url": "https://proxy.example.com"})
		return errors.As(err, &re) && re.StatusCode == http.StatusBadRequest && strings.Contains(err.Error(), "is pinned")
	})
	status, err := e.root.Logical().Read(mountPath + "/status")
	if err != nil || status == nil {
		e.fatalf("status: %v", err)
	}
	if status.Data["health"] != "error" || !strings.Contains(strings.Join(sortedStrings(status.Data["health_findings"]), "\n"), "VAULT_INSTAGRAM_PIN_BASE_URLS") {
		t.Fatalf("status under the pin with the fake's URLs stored: health %v, findings %v", status.Data["health"], status.Data["health_findings"])
	}
	if _, err := e.root.Logical().Write(mountPath+"/accounts/pinned", map[string]any{"access_token": "IGAAnot-sent-anywhere"}); !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		t.Fatalf("a registration under the pin with the fake's URLs stored: %v, want a 400", err)
	}
}
