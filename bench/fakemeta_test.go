package main

import (
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// TestFakeMetaRunsApart: the benchmark's fake Meta is the fakemeta binary
// in a process of its own; a token minted through it answers Graph's me
// with the app secret handed over on stdin, SetLatency delays the answers,
// a refused admin request is an error, and Close stops the process.
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
	if err := goBuild(root, bin, "./graph/graphtest/cmd/fakemeta"); err != nil {
		t.Fatal(err)
	}
	const secret = "test-secret"
	f, err := startFakeMeta(bin, "test-app", secret, filepath.Join(dir, "fakemeta.log"))
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
		resp, err := http.Get(me)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET me with the minted token: HTTP %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	get()

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

	pid := f.proc.Pid()
	closed = true
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("fakemeta (pid %d) still there after Close: %v", pid, err)
	}
}
