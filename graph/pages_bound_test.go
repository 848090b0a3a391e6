package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// TestEndlessPagesCursorStopsAtFiftyCalls: a host whose me/accounts always
// answers another page (a fresh "after" cursor and a "next" link) cannot
// keep Pages calling it: after 50 pages (5,000 Pages at 100 a page, beyond
// any real account) the answer is malformed, saying so, and no more calls
// are made. What is read stays bounded: 50 answers of at most 1 MiB each.
func TestEndlessPagesCursorStopsAtFiftyCalls(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		fmt.Fprintf(w, `{"data":[{"id":"%d","name":"P","access_token":"EAAp"}],"paging":{"cursors":{"after":"c%d"},"next":"https://x/next"}}`, n, n)
	}))
	defer srv.Close()
	c := graph.New(graph.Config{AppID: "1", AppSecret: "s", HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Endpoints: graph.Endpoints{FacebookGraphBaseURL: srv.URL}})
	pages, err := c.Pages(context.Background(), "EAAtok")
	if !errors.Is(err, graph.ErrMalformedResponse) || pages != nil {
		t.Fatalf("Pages = %d pages, %v; want a malformed answer", len(pages), err)
	}
	if n := calls.Load(); n != 50 {
		t.Fatalf("%d calls to me/accounts, want 50", n)
	}
}
