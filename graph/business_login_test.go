package graph_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestFacebookAuthorizeURLWithConfiguration: Facebook Login for Business's
// dialog carries config_id instead of scope, and asks for a code.
func TestFacebookAuthorizeURLWithConfiguration(t *testing.T) {
	c := graph.New(graph.Config{AppID: "42", Endpoints: graph.Endpoints{Version: "v24.0"}})
	u, err := url.Parse(c.FacebookAuthorizeURL(redirectURI, fbScopes, "st", "871000000000001"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/v24.0/dialog/oauth" || q.Get("config_id") != "871000000000001" || q.Has("scope") ||
		q.Get("response_type") != "code" || q.Get("override_default_response_type") != "true" ||
		q.Get("state") != "st" || q.Get("client_id") != "42" || q.Get("redirect_uri") != redirectURI {
		t.Fatalf("dialog URL %s", u)
	}
}

// TestFacebookLoginForBusinessFlow: through a configuration, the code
// exchange gives what the configuration fixed, and debug_token says which:
// USER, or SYSTEM_USER never expiring or expiring after 60 days.
func TestFacebookLoginForBusinessFlow(t *testing.T) {
	cases := []struct {
		name      string
		conf      graphtest.Configuration
		wantType  string
		expiresIn int64
	}{
		{"user token", graphtest.Configuration{}, "USER", int64(2 * time.Hour / time.Second)},
		{"system user, never expires", graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken}, "SYSTEM_USER", 0},
		{"system user, 60 days", graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken, Expiring: true}, "SYSTEM_USER", int64(sixtyDays / time.Second)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fx := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
			fx.fake.AddUser("shop")
			conf, _ := fx.fake.AddConfiguration(tc.conf)
			loc := follow(t, fx.client.FacebookAuthorizeURL(redirectURI, nil, "st", conf.ID))
			tok, err := fx.client.FacebookExchangeCode(ctx, loc.Query().Get("code"), redirectURI)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ExpiresIn != tc.expiresIn {
				t.Errorf("expires_in = %d, want %d", tok.ExpiresIn, tc.expiresIn)
			}
			info, err := fx.client.DebugToken(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if info.Type != tc.wantType || !info.IsValid || info.UserID == "" {
				t.Fatalf("debug_token = %+v", info)
			}
			if want := fx.clock.Now().Add(time.Duration(tc.expiresIn) * time.Second); tc.wantType == "SYSTEM_USER" &&
				!(tc.expiresIn == 0 && info.ExpiresAt.IsZero() || info.ExpiresAt.Equal(want)) {
				t.Errorf("expires_at = %v, want %v", info.ExpiresAt, want)
			}
			// Pages (with appsecret_proof) from either kind.
			pages, err := fx.client.Pages(ctx, tok.AccessToken)
			if err != nil || len(pages) != 1 || pages[0].AccessToken == "" {
				t.Fatalf("pages = %+v, %v", pages, err)
			}
		})
	}
}
