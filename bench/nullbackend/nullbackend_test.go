package nullbackend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

func relayRead(t *testing.T, b interface {
	HandleRequest(context.Context, *logical.Request) (*logical.Response, error)
}, target string) (*logical.Response, error) {
	t.Helper()
	return b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.ReadOperation,
		Path:      "relay/shop",
		Data:      map[string]any{"url": target},
		Storage:   &logical.InmemStorage{},
	})
}

// TestRelayCallsTheURLThenAnswersTheConstant: relay/<name> is a minimal
// proxy: the URL is called once per read, with a GET, and the answer is the
// constant, whatever the URL answered.
func TestRelayCallsTheURLThenAnswersTheConstant(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodGet || r.URL.Query().Get("access_token") != "tok" {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	defer srv.Close()
	b := New(map[string]any{"access_token": "constant"}, nil)
	resp, err := relayRead(t, b, srv.URL+"/me?access_token=tok")
	if err != nil || resp == nil || resp.IsError() {
		t.Fatalf("relay: %v, %v", resp, err)
	}
	if resp.Data["access_token"] != "constant" || calls.Load() != 1 {
		t.Fatalf("answered %v after %d calls; want the constant after one", resp.Data, calls.Load())
	}
}

// TestRelayFailsWithoutQuotingTheURL: a call that fails is an error, and
// the error does not quote the URL, whose query holds a token.
func TestRelayFailsWithoutQuotingTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	b := New(map[string]any{}, nil)
	if _, err := relayRead(t, b, srv.URL+"/me?access_token=secret-token"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a 401 answered %v, want an error naming the status", err)
	}
	srv.Close() // refused from now on
	_, err := relayRead(t, b, srv.URL+"/me?access_token=secret-token")
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("a refused call answered %v: want an error that does not quote the URL", err)
	}
}
