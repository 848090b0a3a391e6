//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// metaDelivery is a webhook delivery as Meta writes it: keys in Meta's
// order (not sorted), "/" escaped as `\/` and non-ASCII as `\uXXXX`. Meta
// signs these exact bytes.
const metaDelivery = `{"object":"application","entry":[{"time":1767225600,"id":"1234567890","changes":[{"value":{"business_id":"42","note":"caf\u00e9 \/ shop"},"field":"business_integration_uninstall"}]}]}`

// probeObservation is what e2e/testdata/rawbodyprobe answers about one
// request it received.
type probeObservation struct {
	DataKeys       []string            `json:"data_keys"`
	DataReencoded  string              `json:"data_reencoded"`
	Headers        map[string][]string `json:"headers"`
	HasHTTPRequest bool                `json:"has_http_request"`
	RawBody        string              `json:"raw_body"`
}

// TestWebhookRawBodyNeverReachesAnExternalPlugin settles whether the engine
// could verify a Meta webhook (X-Hub-Signature-256: HMAC-SHA256 over the raw
// request body, keyed with the app secret). It builds a throwaway plugin
// (e2e/testdata/rawbodyprobe) that answers what it received, registers it
// in a real Vault, and POSTs a delivery written as Meta writes it to an
// ordinary unauthenticated path and to one declared in PathsSpecial.Binary.
//
// What it shows, on Vault 1.21 with SDK v0.25:
//   - the signature header reaches the plugin only once the mount is tuned
//     with passthrough_request_headers (Vault drops request headers by
//     default);
//   - the body never does: Vault parses the JSON into req.Data, which
//     crosses the gRPC boundary as a map (key order lost, escapes decoded),
//     so re-encoding it does not give back the signed bytes and the HMAC
//     does not match;
//   - declaring the path in PathsSpecial.Binary changes nothing: the
//     plugin protocol's client in Vault drops the Binary list when it reads
//     a plugin's special paths (sdk plugin/grpc_backend_client.go,
//     SpecialPaths), so Vault parses that body too; and had it kept the
//     body raw, it would have kept it in req.HTTPRequest, which the plugin
//     protocol does not carry either.
//
// So an external plugin cannot check Meta's signature, and the engine has
// no webhook endpoint: the hourly debug_token check catches a Business
// Integration uninstall instead (TestBusinessUninstallCaughtByHourlyCheck).
func TestWebhookRawBodyNeverReachesAnExternalPlugin(t *testing.T) {
	t.Parallel()
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	probe := buildRawBodyProbe(t, p.VaultBin)
	vault := startVault(t, probe)
	t.Cleanup(func() { stopVault(t, vault) })

	cfg := api.DefaultConfig()
	cfg.Address = vault.Addr
	cfg.MaxRetries = 0
	root, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(rootToken)
	root.ClearNamespace()
	ctx := context.Background()
	if err := root.Sys().RegisterPluginWithContext(ctx, &api.RegisterPluginInput{
		Name: "rawbodyprobe", Type: api.PluginTypeSecrets, Command: "rawbodyprobe", SHA256: probe.PluginSHA256,
	}); err != nil {
		t.Fatalf("register the probe: %v\n%s", err, vaultproc.Tail(vault.LogPath, 40))
	}
	if err := root.Sys().MountWithContext(ctx, "probe", &api.MountInput{Type: "rawbodyprobe"}); err != nil {
		t.Fatalf("mount the probe: %v\n%s", err, vaultproc.Tail(vault.LogPath, 40))
	}

	secret := "probe-app-secret-" + vaultproc.RandHex(8)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(metaDelivery))
	signature := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	signs := func(body string) bool {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(body))
		return hmac.Equal([]byte("sha256="+hex.EncodeToString(m.Sum(nil))), []byte(signature))
	}
	anon := &http.Client{Timeout: 30 * time.Second}
	deliver := func(path string) probeObservation {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, vault.Addr+"/v1/probe/"+path, strings.NewReader(metaDelivery))
		if err != nil {
			t.Fatal(err)
		}
		// As Meta sends it: no Vault token.
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := readAll(t, resp)
		if status != http.StatusOK {
			t.Fatalf("POST probe/%s: %d %s\n%s", path, status, body, vaultproc.Tail(vault.LogPath, 40))
		}
		var out struct {
			Data probeObservation `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("POST probe/%s answered %q: %v", path, body, err)
		}
		t.Logf("probe/%s received: %+v", path, out.Data)
		return out.Data
	}
	headerArrived := func(o probeObservation) bool {
		for k, v := range o.Headers {
			if strings.EqualFold(k, "X-Hub-Signature-256") && len(v) == 1 && v[0] == signature {
				return true
			}
		}
		return false
	}
	// checkBodyLost asserts that nothing the plugin received holds, or
	// re-encodes to, the bytes Meta signed.
	checkBodyLost := func(path string, o probeObservation) {
		t.Helper()
		if o.HasHTTPRequest || o.RawBody != "" {
			t.Errorf("probe/%s: the plugin received the HTTP request (raw body %q): a raw-body check would be possible", path, o.RawBody)
		}
		var parsed any
		if err := json.Unmarshal([]byte(o.DataReencoded), &parsed); err != nil {
			t.Fatalf("probe/%s: data_reencoded %q: %v", path, o.DataReencoded, err)
		}
		// Even the most faithful re-encoding a plugin could attempt
		// (Meta's escapes put back, no HTML escaping) is not the body.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(parsed)
		metaStyle := strings.NewReplacer("/", `\/`, "é", `\u00e9`).Replace(strings.TrimSpace(buf.String()))
		for _, candidate := range []string{o.DataReencoded, metaStyle} {
			if candidate == metaDelivery || signs(candidate) {
				t.Errorf("probe/%s: %q reproduces the signed body", path, candidate)
			}
		}
	}

	// 1. An ordinary path, mount untuned: Vault parses the body and drops
	// the signature header.
	o := deliver("json")
	if headerArrived(o) {
		t.Errorf("probe/json on an untuned mount received X-Hub-Signature-256: %v", o.Headers)
	}
	if keys := slices.Sorted(slices.Values(o.DataKeys)); !slices.Equal(keys, []string{"entry", "object"}) {
		t.Errorf("probe/json: req.Data keys %v, want Vault's parse of the body (entry, object)", o.DataKeys)
	}
	if !strings.Contains(o.DataReencoded, "café / shop") || strings.Contains(o.DataReencoded, `\/`) ||
		strings.Index(o.DataReencoded, `"entry"`) > strings.Index(o.DataReencoded, `"object"`) {
		t.Errorf("probe/json: req.Data re-encoded is %q: want Meta's escapes decoded and its key order lost", o.DataReencoded)
	}
	checkBodyLost("json", o)

	// 2. The same mount tuned to pass the header: it arrives, the body is
	// as lost as before.
	passthrough := []string{"X-Hub-Signature-256"}
	if err := root.Sys().TuneMountAllowNilWithContext(ctx, "probe", api.TuneMountConfigInput{
		PassthroughRequestHeaders: &passthrough,
	}); err != nil {
		t.Fatalf("tune passthrough_request_headers: %v", err)
	}
	o = deliver("json")
	if !headerArrived(o) {
		t.Errorf("probe/json on a mount tuned with passthrough_request_headers did not receive X-Hub-Signature-256: %v", o.Headers)
	}
	checkBodyLost("json", o)

	// 3. A path the plugin declares Binary: Vault never hears of it and
	// parses the body as on any other path; no HTTP request crosses.
	o = deliver("binary")
	if keys := slices.Sorted(slices.Values(o.DataKeys)); !slices.Equal(keys, []string{"entry", "object"}) {
		t.Errorf("probe/binary: req.Data keys %v, want Vault's parse of the body: a Binary path of an external plugin is not honoured", o.DataKeys)
	}
	if !headerArrived(o) {
		t.Errorf("probe/binary did not receive X-Hub-Signature-256: %v", o.Headers)
	}
	checkBodyLost("binary", o)
}

// buildRawBodyProbe builds e2e/testdata/rawbodyprobe into a plugin
// directory of its own.
func buildRawBodyProbe(t *testing.T, vaultBin string) vaultproc.Build {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rawbodyprobe")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./e2e/testdata/rawbodyprobe")
	cmd.Dir = root
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build the probe plugin: %v\n%s", err, out)
	}
	sum, err := vaultproc.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	return vaultproc.Build{VaultBin: vaultBin, PluginDir: dir, PluginBin: bin, PluginSHA256: sum}
}
