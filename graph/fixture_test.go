package graph_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

type fixture struct {
	fake   *graphtest.Server
	client *graph.Client
	clock  *testclock.Clock
}

// newFixture starts a fake with a test clock and a client pointed at it.
func newFixture(t *testing.T, opts graphtest.Options) *fixture {
	t.Helper()
	clock := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts.Now = clock.Now
	fake := graphtest.New(opts)
	t.Cleanup(fake.Close)
	client := graph.New(graph.Config{
		AppID:      fake.AppID(),
		AppSecret:  fake.AppSecret(),
		Endpoints:  fake.Endpoints(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	return &fixture{fake: fake, client: client, clock: clock}
}

// follow opens a dialog URL as a browser would and returns where it
// redirects, without following.
func follow(t *testing.T, dialogURL string) *url.URL {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(dialogURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("dialog answered %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// asError returns err as *graph.Error or fails the test.
func asError(t *testing.T, err error) *graph.Error {
	t.Helper()
	var e *graph.Error
	if !errorsAs(err, &e) {
		t.Fatalf("error %v (%T) is not a *graph.Error", err, err)
	}
	return e
}
