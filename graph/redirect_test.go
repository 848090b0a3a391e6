package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// TestRedirectFromMetaHostIsRefusedAndNothingIsSentElsewhere: a configured
// host answering any redirect (301, 302, 303, 307, 308) to another server,
// with the request's query carried over as a hostile host would, makes
// every call fail with an error wrapping graph.ErrRedirect that names the
// redirecting host and quotes no secret; the second server is never
// called, so the code, the token and the app secret reach no one else.
// 307 and 308 are the ones that would re-send a POST's body (client_secret
// and code) as it was.
func TestRedirectFromMetaHostIsRefusedAndNothingIsSentElsewhere(t *testing.T) {
	const (
		secret = "the-app-secret-value"
		code   = "AQBthe-authorization-code"
		token  = "IGAAthe-long-lived-token"
	)
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"EAAstolen","token_type":"bearer","expires_in":5184000}`))
	}))
	defer other.Close()

	for _, status := range []int{301, 302, 303, 307, 308} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path+"?"+r.URL.RawQuery, status)
		}))
		host := strings.TrimPrefix(redirector.URL, "http://")
		c := graph.New(graph.Config{AppID: "1234", AppSecret: secret, HTTPClient: &http.Client{Timeout: 5 * time.Second},
			Endpoints: graph.Endpoints{APIBaseURL: redirector.URL, GraphBaseURL: redirector.URL, FacebookGraphBaseURL: redirector.URL}})
		ctx := context.Background()
		calls := map[string]func() error{
			"exchange code (POST form)": func() error { _, err := c.ExchangeCode(ctx, code, redirectURI); return err },
			"refresh (GET)":             func() error { _, err := c.Refresh(ctx, token); return err },
			"me":                        func() error { _, err := c.Me(ctx, token); return err },
			"fb code (oauth2)":          func() error { _, err := c.FacebookExchangeCode(ctx, code, redirectURI); return err },
			"fb long-lived":             func() error { _, err := c.FacebookExchangeLongLived(ctx, token); return err },
			"debug token":               func() error { _, err := c.DebugToken(ctx, token); return err },
			"app token (oauth2)":        func() error { _, err := c.AppToken(ctx); return err },
		}
		for name, call := range calls {
			err := call()
			switch {
			case err == nil:
				t.Errorf("HTTP %d, %s: succeeded through the redirect", status, name)
			case !errors.Is(err, graph.ErrRedirect):
				t.Errorf("HTTP %d, %s: %v does not wrap ErrRedirect", status, name, err)
			case !strings.Contains(err.Error(), host):
				t.Errorf("HTTP %d, %s: %q does not name the redirecting host %s", status, name, err, host)
			}
			if err != nil {
				for _, s := range []string{secret, code, token, url.QueryEscape(secret), other.URL} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("HTTP %d, %s: error quotes %q: %v", status, name, s, err)
					}
				}
			}
		}
		redirector.Close()
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the server redirected to was called %d times: the redirect was followed", n)
	}
}
