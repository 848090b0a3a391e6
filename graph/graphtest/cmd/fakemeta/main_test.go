package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startRun runs the fake with args and stdin on a free port until the test
// ends, when it must stop without an error, and returns the base URL and
// the field=URL lines it printed.
func startRun(t *testing.T, stdin string, args ...string) (string, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), strings.NewReader(stdin), pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("run did not stop")
		}
	})
	lines := bufio.NewScanner(pr)
	printed := map[string]string{}
	var base string
	for len(printed) < 7 && lines.Scan() {
		line := lines.Text()
		if m := regexp.MustCompile(`^fakemeta listening on (\S+)`).FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			printed[k] = v
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" {
		t.Fatalf("no listening line; printed %v", printed)
	}
	return base, printed
}

// TestRun starts the standalone fake on a free port, reads the base URLs
// it prints, mints a code through the admin API, and shuts it down.
func TestRun(t *testing.T) {
	base, printed := startRun(t, "shh\nignored", "-app-id", "42", "-app-secret", "-")
	if !strings.HasPrefix(base, "http://") || printed["graph_base_url"] != base+"/graph.instagram.com" || printed["facebook_auth_base_url"] != base+"/www.facebook.com" {
		t.Fatalf("printed %v (base %q)", printed, base)
	}
	// The Threads mount's lines, which a script handing every
	// "^[a-z_]+_base_url=" line to an Instagram mount does not take.
	if printed["threads:threads_auth_base_url"] != base+"/threads.net" || printed["threads:threads_graph_base_url"] != base+"/graph.threads.net" {
		t.Fatalf("threads lines: %v", printed)
	}
	for k := range printed {
		if strings.HasPrefix(k, "threads:") == regexp.MustCompile(`^[a-z_]+_base_url$`).MatchString(k) {
			t.Errorf("line %q: only the Threads lines carry the prefix", k)
		}
	}

	resp, err := http.Post(base+"/_fake/codes", "application/json", strings.NewReader(`{"username":"shop","redirect_uri":"http://localhost/cb"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if !strings.HasPrefix(out["code"], "AQB") {
		t.Fatalf("admin code: %v", out)
	}
	// The Threads hosts answer on the same listener.
	resp, err = http.Get(printed["threads:threads_graph_base_url"] + "/v1.0/me?access_token=THAAnone")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("WWW-Authenticate") == "" { // 190: an unknown token
		t.Fatalf("threads me: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/www.instagram.com/oauth/authorize?client_id=1234567890&response_type=code&redirect_uri=http://localhost/cb")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest { // the fake was told its app id is 42
		t.Fatalf("foreign client_id: %d", resp.StatusCode)
	}

	// The secret came from stdin: the fake grants an app token for it, and
	// for nothing else.
	for secret, want := range map[string]int{"shh": http.StatusOK, "-": http.StatusBadRequest} {
		resp, err = http.Get(base + "/graph.facebook.com/oauth/access_token?grant_type=client_credentials&client_id=42&client_secret=" + secret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("app token for secret %q: %d, want %d", secret, resp.StatusCode, want)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-nope"}, strings.NewReader(""), io.Discard); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-app-secret", "-"}, strings.NewReader("\n"), io.Discard); err == nil {
		t.Fatal("an empty secret on stdin accepted")
	}
}
