package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// TestTricklingBodyEndsAtTheCallsDeadline: a host that answers at once but
// sends its body a byte at a time, forever, holds a call no longer than
// the call's deadline (the engine's request_timeout, carried by the
// context; the engine's HTTP client has no timeout of its own): the whole
// body is read inside the deadline, not only the headers.
func TestTricklingBodyEndsAtTheCallsDeadline(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-done:
				return
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	defer close(done)
	c := graph.New(graph.Config{AppID: "1", AppSecret: "s", HTTPClient: &http.Client{},
		Endpoints: graph.Endpoints{GraphBaseURL: srv.URL}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Refresh(ctx, "IGAAsomelonglivedtoken")
	if err == nil || graph.Classify(err) != graph.ClassTransient {
		t.Fatalf("a trickling body: %v (class %v), want a transient failure", err, graph.Classify(err))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the call took %v past a 200 ms deadline", took)
	}
}
