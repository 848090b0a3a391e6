package main

import (
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	cleanhttp "github.com/hashicorp/go-cleanhttp"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// TestFakeMetaRunsApart: the benchmark's fake Meta is the fakemeta binary
// in a process of its own, serving https with HTTP/2 as Meta does; a token
// minted through it answers Graph's me with the app secret handed over on
// stdin, to the benchmark's client trusting the certificate the fake wrote,
// over HTTP/2, and to a Go program given that certificate by SSL_CERT_FILE
// (PluginEnv, as the plugin is) with the plugin's client; a client with
// the system's roots alone is refused; SetLatency delays the answers, a
// refused admin request is an error, the fake's protocol count shows the
// benchmark's calls on HTTP/2, and Close stops the process. Without a
// certificate path (-meta-http1) it serves plain http, HTTP/1.1.
func TestFakeMetaRunsApart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fakemeta command")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakemeta")
	if err := vaultproc.GoBuild(root, bin, "./graph/graphtest/cmd/fakemeta", "-ldflags", "-s -w"); err != nil {
		t.Fatal(err)
	}
	const secret = "test-secret"
	certPath := filepath.Join(dir, "fakemeta-ca.pem")
	f, err := startFakeMeta(bin, "test-app", secret, filepath.Join(dir, "fakemeta.log"), certPath)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = f.Close()
		}
	}()
	if f.AppID() != "test-app" {
		t.Fatalf("AppID %q", f.AppID())
	}
	if !strings.HasPrefix(f.base, "https://127.0.0.1:") || !f.HTTPS() || f.RootCAs() == nil {
		t.Fatalf("base %q, https %v", f.base, f.HTTPS())
	}
	if env := f.PluginEnv(); !slices.Equal(env, []string{"SSL_CERT_FILE=" + certPath}) {
		t.Fatalf("PluginEnv %v", env)
	}
	client := newHTTPClient(4, f.RootCAs())
	defer client.CloseIdleConnections()

	tok, err := f.MintLongLivedToken("shop", []string{"instagram_business_basic"}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ep := f.Endpoints()
	me := ep.GraphBaseURL + "/" + ep.Version + "/me?" + url.Values{
		"fields": {"id,username"}, "access_token": {tok}, "appsecret_proof": {graph.AppSecretProof(secret, tok)},
	}.Encode()
	get := func() time.Duration {
		t.Helper()
		start := time.Now()
		getOverHTTP2(t, client, me)
		return time.Since(start)
	}
	get()

	// The system's roots alone do not trust the fake: nothing is trusted
	// by skipping verification.
	system := &http.Client{Transport: metaTransport(nil), Timeout: 10 * time.Second}
	defer system.CloseIdleConnections()
	var unknown x509.UnknownAuthorityError
	if _, err := system.Get(me); !errors.As(err, &unknown) {
		t.Fatalf("GET me with the system's roots: %v, want an unknown authority", err)
	}

	// Another Go process, given PluginEnv, reaches the fake with the
	// plugin's client (go-cleanhttp's pooled one, no TLS config of its
	// own) over HTTP/2: this test binary again, in sslCertFileChild.
	child := exec.Command(os.Args[0], "-test.run=^TestSSLCertFileChild$", "-test.count=1", "-test.v")
	child.Env = append(append(os.Environ(), "BENCH_SSL_CERT_FILE_CHILD_URL="+me), f.PluginEnv()...)
	if out, err := child.CombinedOutput(); err != nil || !strings.Contains(string(out), "child reached the fake over HTTP/2.0") {
		t.Fatalf("a Go program with %v: %v\n%s", f.PluginEnv(), err, out)
	}

	if err := f.SetLatency(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := get(); took < 5*time.Millisecond {
		t.Fatalf("GET me with 5ms latency took %v", took)
	}
	if err := f.SetLatency(time.Hour); err == nil {
		t.Fatal("a latency past the admin API's bound was not an error")
	}
	if err := f.SetLatency(0); err != nil {
		t.Fatal(err)
	}

	counts, err := f.Protocols()
	if err != nil {
		t.Fatal(err)
	}
	by := protocolsByCaller(counts)
	if by["benchmark"]["HTTP/2.0"] < 3 || len(by["benchmark"]) != 1 || strings.Contains(metaProtocolsText(counts, true), "not all HTTP/2") {
		t.Fatalf("the fake's protocol count: %+v", counts)
	}

	pid := f.proc.Pid()
	closed = true
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("fakemeta (pid %d) still there after Close: %v", pid, err)
	}

	// -meta-http1: plain http, HTTP/1.1, nothing for the plugin to trust.
	plain, err := startFakeMeta(bin, "test-app", secret, filepath.Join(dir, "fakemeta-http1.log"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if !strings.HasPrefix(plain.base, "http://127.0.0.1:") || plain.HTTPS() || plain.RootCAs() != nil || plain.PluginEnv() != nil {
		t.Fatalf("plain fake: base %q, env %v", plain.base, plain.PluginEnv())
	}
	tok, err = plain.MintLongLivedToken("shop", []string{"instagram_business_basic"}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ep = plain.Endpoints()
	resp, err := newHTTPClient(1, nil).Get(ep.GraphBaseURL + "/" + ep.Version + "/me?" + url.Values{
		"access_token": {tok}, "appsecret_proof": {graph.AppSecretProof(secret, tok)},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 1 {
		t.Fatalf("plain fake: GET me: HTTP %d over %s", resp.StatusCode, resp.Proto)
	}
}

// TestSSLCertFileChild is TestFakeMetaRunsApart's other process: with
// BENCH_SSL_CERT_FILE_CHILD_URL set, it GETs that URL with the plugin's
// client, trusting what SSL_CERT_FILE names, and says over which protocol.
func TestSSLCertFileChild(t *testing.T) {
	u := os.Getenv("BENCH_SSL_CERT_FILE_CHILD_URL")
	if u == "" {
		t.Skip("run by TestFakeMetaRunsApart")
	}
	getOverHTTP2(t, cleanhttp.DefaultPooledClient(), u)
	t.Log("child reached the fake over HTTP/2.0")
}

// getOverHTTP2 GETs u with client and fails the test unless the answer is
// a 200 that came over HTTP/2.
func getOverHTTP2(t *testing.T, client *http.Client, u string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", strings.Split(u, "?")[0], resp.StatusCode)
	}
	if resp.ProtoMajor != 2 {
		t.Fatalf("GET %s over %s, want HTTP/2", strings.Split(u, "?")[0], resp.Proto)
	}
}
