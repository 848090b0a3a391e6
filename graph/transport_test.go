package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func TestInjectedFailures(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	tok := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now().Add(-2*day))

	tests := []struct {
		name    string
		failure graphtest.Failure
		class   graph.Class
		check   func(t *testing.T, err error)
	}{
		{"oversize body", graphtest.Failure{Oversize: true}, graph.ClassTransient, func(t *testing.T, err error) {
			if !errors.Is(err, graph.ErrResponseTooLarge) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"malformed body", graphtest.Failure{Malformed: true}, graph.ClassTransient, func(t *testing.T, err error) {
			if !errors.Is(err, graph.ErrMalformedResponse) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"HTML 502", graphtest.Failure{Status: 502, Body: "<html>bad gateway</html>", Header: http.Header{"Content-Type": {"text/html"}}}, graph.ClassTransient, func(t *testing.T, err error) {
			if e := asError(t, err); e.HTTPStatus != 502 || e.Code != 0 {
				t.Fatalf("%+v", e)
			}
		}},
		{"code 2", graphtest.GraphError(2, 0, "OAuthException", "Service temporarily unavailable"), graph.ClassTransient, nil},
		{"code 4 throttled", graphtest.Throttled(4, 12), graph.ClassThrottled, func(t *testing.T, err error) {
			e := asError(t, err)
			if e.RetryAfter != 12*time.Minute || e.Usage == nil || e.Usage.CallCount != 100 {
				t.Fatalf("%+v usage %+v", e, e.Usage)
			}
		}},
		{"code 80002", graphtest.Throttled(80002, 3), graph.ClassThrottled, nil},
		{"code 10 permission", graphtest.GraphError(10, 0, "OAuthException", "(#10) Application does not have permission for this action"), graph.ClassReauth, nil},
		{"flat error", graphtest.FlatError("Invalid authorization code"), graph.ClassPermanent, nil},
		{"echoed secrets are redacted", graphtest.GraphError(100, 0, "OAuthException",
			"Invalid parameter access_token="+tok+" with secret "+fx.fake.AppSecret()), graph.ClassPermanent,
			func(t *testing.T, err error) {
				if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), fx.fake.AppSecret()) ||
					!strings.Contains(err.Error(), "access_token=[redacted] with secret [redacted]") {
					t.Fatalf("err = %v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx.fake.Fail(graphtest.EndpointRefresh, 1, tt.failure)
			_, err := fx.client.Refresh(ctx, tok)
			if err == nil {
				t.Fatal("no error")
			}
			if got := graph.Classify(err); got != tt.class {
				t.Fatalf("Classify(%v) = %v, want %v", err, got, tt.class)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			// One failure only: the next call succeeds.
			if _, err := fx.client.Refresh(ctx, tok); err != nil {
				t.Fatalf("after the failure: %v", err)
			}
		})
	}
}

func TestHangingServerTimesOutWithoutLeakingSecrets(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	tok := fx.fake.MintShortLivedToken("shop", scopes)
	fx.fake.Fail(graphtest.EndpointIGExchangeToken, -1, graphtest.Failure{Hang: true})
	c := graph.New(graph.Config{
		AppID: fx.fake.AppID(), AppSecret: fx.fake.AppSecret(), Endpoints: fx.fake.Endpoints(),
		HTTPClient: &http.Client{Timeout: 100 * time.Millisecond},
	})
	_, err := c.ExchangeForLongLived(context.Background(), tok)
	if graph.Classify(err) != graph.ClassTransient {
		t.Fatalf("timeout: %v (class %v)", err, graph.Classify(err))
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), fx.fake.AppSecret()) {
		t.Fatalf("error leaks a secret: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = fx.client.ExchangeForLongLived(ctx, tok)
	if !errors.Is(err, context.Canceled) || graph.Classify(err) != graph.ClassTransient {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestUnreachableHostErrorHasNoSecrets(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c := graph.New(graph.Config{AppID: "1", AppSecret: "the-app-secret", Endpoints: graph.Endpoints{
		APIBaseURL: dead.URL, GraphBaseURL: dead.URL, FacebookGraphBaseURL: dead.URL,
	}})
	ctx := context.Background()
	const tok = "IGAAsecrettoken"
	calls := map[string]func() error{
		"exchange code": func() error { _, err := c.ExchangeCode(ctx, "AQBsecretcode#_", redirectURI); return err },
		"exchange":      func() error { _, err := c.ExchangeForLongLived(ctx, tok); return err },
		"refresh":       func() error { _, err := c.Refresh(ctx, tok); return err },
		"me":            func() error { _, err := c.Me(ctx, tok); return err },
		"fb code":       func() error { _, err := c.FacebookExchangeCode(ctx, "AQBsecretcode", redirectURI); return err },
		"fb long-lived": func() error { _, err := c.FacebookExchangeLongLived(ctx, tok); return err },
		"pages":         func() error { _, err := c.Pages(ctx, tok); return err },
		"debug token":   func() error { _, err := c.DebugToken(ctx, tok); return err },
		"app token":     func() error { _, err := c.AppToken(ctx); return err },
	}
	for name, call := range calls {
		err := call()
		if err == nil || graph.Classify(err) != graph.ClassTransient {
			t.Errorf("%s: %v (class %v)", name, err, graph.Classify(err))
			continue
		}
		for _, secret := range []string{tok, "the-app-secret", "AQBsecretcode", graph.AppSecretProof("the-app-secret", tok)} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks %q: %v", name, secret, err)
			}
		}
	}
}

func TestClientHTTPSettings(t *testing.T) {
	var mu sync.Mutex
	var gotUA, gotMethod, gotContentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotUA, gotMethod, gotContentType = r.UserAgent(), r.Method, r.Header.Get("Content-Type")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"IGAA` + strings.Repeat("x", 200) + `","token_type":"bearer","expires_in":5183944}`))
	}))
	defer srv.Close()

	caller := &http.Client{Timeout: time.Second}
	c := graph.New(graph.Config{AppSecret: "s", Endpoints: graph.Endpoints{GraphBaseURL: srv.URL, APIBaseURL: srv.URL}, HTTPClient: caller, UserAgent: "igvault-test/1"})
	if _, err := c.Refresh(context.Background(), "IGAAold"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if gotUA != "igvault-test/1" || gotMethod != http.MethodGet {
		t.Errorf("UA %q, method %s", gotUA, gotMethod)
	}
	mu.Unlock()
	if caller.Transport != nil {
		t.Error("New modified the caller's http.Client")
	}
	if _, err := c.ExchangeCode(context.Background(), "AQB", redirectURI); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if gotMethod != http.MethodPost || gotContentType != "application/x-www-form-urlencoded" {
		t.Errorf("exchange sent %s %q", gotMethod, gotContentType)
	}
	mu.Unlock()

	small := graph.New(graph.Config{Endpoints: graph.Endpoints{GraphBaseURL: srv.URL}, MaxResponseBytes: 100})
	if _, err := small.Refresh(context.Background(), "IGAAold"); !errors.Is(err, graph.ErrResponseTooLarge) {
		t.Errorf("MaxResponseBytes 100: %v", err)
	}
}

// TestConcurrentRefreshes runs refreshes in parallel against a slow fake:
// the client is safe for concurrent use and the fake sees them overlap.
func TestConcurrentRefreshes(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	fx.fake.SetLatency(30 * time.Millisecond)
	const n = 8
	toks := make([]string, n)
	for i := range toks {
		toks[i] = fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now().Add(-2*day))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, tok := range toks {
		wg.Go(func() {
			_, err := fx.client.Refresh(context.Background(), tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := fx.fake.MaxConcurrent(); got < 2 || got > n {
		t.Fatalf("MaxConcurrent = %d", got)
	}
	if got := fx.fake.Calls(graphtest.EndpointRefresh); got != n {
		t.Fatalf("Calls = %d", got)
	}
}
