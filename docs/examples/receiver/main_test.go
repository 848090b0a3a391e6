package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// docBlock is the body of the first fenced block of the given language
// that contains marker in docs/notifications.md.
func docBlock(t *testing.T, lang, marker string) string {
	t.Helper()
	doc, err := os.ReadFile("../../notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], marker) {
			return m[1]
		}
	}
	t.Fatalf("docs/notifications.md has no %s block with %q", lang, marker)
	return ""
}

// The documentation quotes this example exactly (from its imports on), so
// what readers copy compiles.
func TestDocsQuoteTheReceiverExample(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	quoted := docBlock(t, "go", "func verified(")
	_, fromImports, _ := strings.Cut(string(src), "\nimport (")
	if !strings.HasSuffix(quoted, "import ("+fromImports) {
		t.Errorf("the Go block in docs/notifications.md is not docs/examples/receiver/main.go from its imports on:\n%s", quoted)
	}
}

// The example accepts what the engine sends, and nothing altered.
func TestReceiverExampleVerifiesWhatTheEngineSigns(t *testing.T) {
	secret := []byte("shared secret")
	store := memStore{}
	o := notify.New(notify.Options{Linger: -1})
	defer o.Close()
	if _, err := o.Enqueue(context.Background(), store, notify.Event{Type: notify.NeedsReauth, Account: "shop", Status: "needs_reauth"}); err != nil {
		t.Fatal(err)
	}
	var got int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		handle(secret).ServeHTTP(rec, r)
		got = rec.Code
		w.WriteHeader(rec.Code)
	}))
	defer srv.Close()
	o.Run(store, notify.Target{URL: srv.URL, Secret: string(secret)})
	o.Wait()
	if got != http.StatusNoContent || o.Figures().Delivered != 1 {
		t.Fatalf("the example answered %d to the engine's event, want 204", got)
	}

	body := []byte(`{"id":"1"}`)
	sig := notify.Sign(secret, body)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"signed", body, sig, http.StatusNoContent},
		{"body altered", []byte(`{"id":"2"}`), sig, http.StatusUnauthorized},
		{"other secret", body, notify.Sign([]byte("other"), body), http.StatusUnauthorized},
		{"unsigned", body, "", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
		req.Header.Set("X-Hub-Signature-256", tc.sig)
		rec := httptest.NewRecorder()
		handle(secret).ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
}

// The documented openssl line computes the header the engine sends.
func TestDocsOpenSSLLineMatchesTheSignature(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl here")
	}
	line := strings.TrimSpace(docBlock(t, "shell", "openssl dgst"))
	secret, body := "shared secret", []byte(`{"id":"0f1e","type":"app.paused","status":"paused","at":"2026-03-01T12:00:00Z"}`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NOTIFY_SECRET="+secret)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if got, want := strings.TrimSpace(string(out)), notify.Sign([]byte(secret), body); got != want {
		t.Errorf("the openssl line prints %q, the engine signs %q", got, want)
	}
}

// memStore is the smallest notify.Store.
type memStore map[string][]byte

func (s memStore) Get(_ context.Context, k string) ([]byte, error) { return s[k], nil }
func (s memStore) Put(_ context.Context, k string, v []byte) error { s[k] = v; return nil }
func (s memStore) Delete(_ context.Context, k string) error        { delete(s, k); return nil }
func (s memStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range s {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			keys = append(keys, rest)
		}
	}
	return keys, nil
}
