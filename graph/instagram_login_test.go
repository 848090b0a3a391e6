package graph_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

var errorsAs = errors.As

const (
	redirectURI = "https://vault.example.com/v1/instagram/callback"
	day         = 24 * time.Hour
	sixtyDays   = 60 * day
)

var scopes = []string{"instagram_business_basic", "instagram_business_content_publish"}

func TestAuthorizeURL(t *testing.T) {
	c := graph.New(graph.Config{AppID: "42", AppSecret: "s", Endpoints: graph.Endpoints{AuthBaseURL: "http://127.0.0.1:9/www.instagram.com/"}})
	u, err := url.Parse(c.AuthorizeURL(redirectURI, scopes, "st4te", graph.DialogOptions{ForceReauth: true}))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "http://127.0.0.1:9/www.instagram.com/oauth/authorize" {
		t.Errorf("dialog at %s", got)
	}
	q := u.Query()
	want := url.Values{
		"client_id":     {"42"},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {"instagram_business_basic,instagram_business_content_publish"},
		"state":         {"st4te"},
		"force_reauth":  {"true"},
	}
	if q.Encode() != want.Encode() {
		t.Errorf("query = %v\nwant    %v", q, want)
	}
	// Production default, no force_reauth.
	u, _ = url.Parse(graph.New(graph.Config{AppID: "42"}).AuthorizeURL(redirectURI, scopes, "s", graph.DialogOptions{}))
	if u.Host != "www.instagram.com" || u.Query().Has("force_reauth") {
		t.Errorf("default URL %s", u)
	}
}

// TestInstagramLoginFlow walks the whole life of a token: dialog, code,
// short-lived, long-lived, /me, the 24-hour rule, refresh, expiry.
func TestInstagramLoginFlow(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	user := fx.fake.AddUser("shop")
	ctx := context.Background()

	loc := follow(t, fx.client.AuthorizeURL(redirectURI, scopes, "xyz", graph.DialogOptions{}))
	if loc.Fragment != "_" || loc.Query().Get("state") != "xyz" || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("redirect %s", loc)
	}
	pasted := loc.Query().Get("code") + "#_" // as an operator pastes it

	short, err := fx.client.ExchangeCode(ctx, pasted, redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if short.UserID != user.UserID || strings.Join(short.Permissions, ",") != strings.Join(scopes, ",") {
		t.Fatalf("short-lived %+v, user %+v", short, user)
	}

	long, err := fx.client.ExchangeForLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if long.ExpiresIn != int64(sixtyDays/time.Second) || long.TokenType != "bearer" || long.AccessToken == short.AccessToken {
		t.Fatalf("long-lived %+v", long)
	}

	me, err := fx.client.Me(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if me.UserID != user.UserID || me.ID != user.ID || me.Username != "shop" || me.AccountType == "" {
		t.Fatalf("me %+v, user %+v", me, user)
	}

	// Younger than 24 hours: Meta refuses; retrying unchanged cannot help.
	fx.clock.Advance(23 * time.Hour)
	_, err = fx.client.Refresh(ctx, long.AccessToken)
	if e := asError(t, err); e.Code != 100 || graph.Classify(err) != graph.ClassPermanent {
		t.Fatalf("young refresh: %v (class %v)", err, graph.Classify(err))
	}

	fx.clock.Advance(2 * time.Hour)
	refreshed, err := fx.client.Refresh(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == long.AccessToken || refreshed.ExpiresIn != int64(sixtyDays/time.Second) {
		t.Fatalf("refreshed %+v (rotation is the fake's default)", refreshed)
	}
	if fx.fake.CurrentToken(user.UserID) != refreshed.AccessToken {
		t.Fatal("CurrentToken is not the refreshed token")
	}
	// The old string stays valid until its own expiry.
	if _, err := fx.client.Me(ctx, long.AccessToken); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}

	// The first token expires 60 days after its issue; the refreshed one
	// lives on.
	fx.clock.Advance(sixtyDays - 25*time.Hour)
	_, err = fx.client.Refresh(ctx, long.AccessToken)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 463 || graph.Classify(err) != graph.ClassReauth {
		t.Fatalf("expired refresh: %v", err)
	}
	if _, err := fx.client.Refresh(ctx, refreshed.AccessToken); err != nil {
		t.Fatalf("refresh of the live token: %v", err)
	}
	for name, want := range map[string]int{
		graphtest.EndpointAuthorize: 1, graphtest.EndpointExchangeCode: 1, graphtest.EndpointIGExchangeToken: 1,
		graphtest.EndpointMe: 2, graphtest.EndpointRefresh: 4,
	} {
		if got := fx.fake.Calls(name); got != want {
			t.Errorf("Calls(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestRefreshKeepsTokenWhenNotRotating(t *testing.T) {
	fx := newFixture(t, graphtest.Options{KeepTokenOnRefresh: true})
	issued := fx.clock.Now()
	tok := fx.fake.MintLongLivedToken("shop", scopes, issued)
	fx.clock.Advance(30 * day)
	got, err := fx.client.Refresh(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := fx.fake.TokenInfo(tok)
	if got.AccessToken != tok || !st.ExpiresAt.Equal(fx.clock.Now().Add(sixtyDays)) {
		t.Fatalf("refresh gave %+v, state %+v", got, st)
	}
}

// TestExchangeCodeShapes covers both success shapes the fake alternates
// between, and that a user_id above 2^53 survives each exactly.
func TestExchangeCodeShapes(t *testing.T) {
	for _, shape := range []graphtest.Shape{graphtest.ShapeEnvelope, graphtest.ShapeFlat, graphtest.ShapeAlternate} {
		fx := newFixture(t, graphtest.Options{ExchangeShape: shape})
		user := fx.fake.AddUser("shop")
		for range 2 {
			code := fx.fake.MintCode(user.UserID, scopes, redirectURI)
			tok, err := fx.client.ExchangeCode(context.Background(), code, redirectURI)
			if err != nil {
				t.Fatalf("shape %d: %v", shape, err)
			}
			if tok.UserID != user.UserID || tok.UserID != "27640875392278831" || len(tok.Permissions) != 2 {
				t.Fatalf("shape %d: %+v", shape, tok)
			}
		}
	}
}

func TestExchangeCodeErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	fresh := func() string { return fx.fake.MintCode("shop", scopes, redirectURI) }

	used := fresh()
	if _, err := fx.client.ExchangeCode(ctx, used, redirectURI); err != nil {
		t.Fatal(err)
	}
	expired := fresh()

	wrongSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "nope", Endpoints: fx.fake.Endpoints()})
	wrongApp := graph.New(graph.Config{AppID: "999", AppSecret: fx.fake.AppSecret(), Endpoints: fx.fake.Endpoints()})
	tests := []struct {
		name    string
		client  *graph.Client
		code    string
		uri     string
		message string
	}{
		{"used", fx.client, used, redirectURI, "This authorization code has been used"},
		{"unknown", fx.client, "AQBnope", redirectURI, "Matching code was not found or was already used"},
		{"redirect mismatch", fx.client, fresh(), redirectURI + "/", "Redirect URI doesn't match original redirect URI"},
		{"wrong secret", wrongSecret, fresh(), redirectURI, "Invalid platform app"},
		{"wrong app", wrongApp, fresh(), redirectURI, "Invalid platform app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ExchangeCode(ctx, tt.code, tt.uri)
			e := asError(t, err)
			if e.HTTPStatus != 400 || e.Code != 400 || e.Type != "OAuthException" || e.Message != tt.message {
				t.Fatalf("got %+v", e)
			}
			if graph.Classify(err) != graph.ClassPermanent {
				t.Fatalf("class %v", graph.Classify(err))
			}
			if strings.Contains(err.Error(), tt.code) {
				t.Fatalf("error quotes the code: %v", err)
			}
		})
	}
	fx.clock.Advance(61 * time.Minute)
	_, err := fx.client.ExchangeCode(ctx, expired, redirectURI)
	if e := asError(t, err); e.Message != "Matching code was not found or was already used" {
		t.Fatalf("expired code: %+v", e)
	}
	if _, err := fx.client.ExchangeCode(ctx, " #_ ", redirectURI); err == nil || fx.fake.Calls(graphtest.EndpointExchangeCode) != 7 {
		t.Fatalf("empty code: %v, calls %d (an empty code must not reach Meta)", err, fx.fake.Calls(graphtest.EndpointExchangeCode))
	}
}

func TestExchangeForLongLivedErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	short := fx.fake.MintShortLivedToken("shop", scopes)
	long := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now())
	wrongSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "other-app", Endpoints: fx.fake.Endpoints()})

	for name, call := range map[string]func() error{
		"long-lived token": func() error { _, err := fx.client.ExchangeForLongLived(ctx, long); return err },
		"wrong secret":     func() error { _, err := wrongSecret.ExchangeForLongLived(ctx, short); return err },
	} {
		e := asError(t, call())
		if e.Code != 100 || e.Type != "IGApiException" || e.Message != "Unsupported request - method type: get" {
			t.Errorf("%s: %+v", name, e)
		}
	}
	fx.clock.Advance(time.Hour)
	_, err := fx.client.ExchangeForLongLived(ctx, short)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 463 {
		t.Fatalf("expired short-lived: %+v", e)
	}
}

func TestRevokedTokens(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	a := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now())
	b := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now())
	fx.fake.Revoke(a)
	_, err := fx.client.Me(ctx, a)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 467 || graph.Classify(err) != graph.ClassReauth {
		t.Fatalf("revoked token: %+v", e)
	}
	fx.fake.RevokeUser("shop")
	fx.clock.Advance(2 * day)
	_, err = fx.client.Refresh(ctx, b)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 460 {
		t.Fatalf("password changed: %+v", e)
	}
	if _, err := fx.client.Me(ctx, "IGAAunknown"); asError(t, err).Code != 190 {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestAppSecretProof(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
	tok := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now())
	if _, err := fx.client.Me(ctx, tok); err != nil {
		t.Fatalf("with proof: %v", err)
	}
	noSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), Endpoints: fx.fake.Endpoints()})
	_, err := noSecret.Me(ctx, tok)
	if e := asError(t, err); e.Code != 100 || e.Message != "API calls from the server require an appsecret_proof argument" {
		t.Fatalf("without proof: %+v", e)
	}
	wrong := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "wrong", Endpoints: fx.fake.Endpoints()})
	if _, err := wrong.Me(ctx, tok); asError(t, err).Message != "Invalid appsecret_proof provided in the API argument" {
		t.Fatalf("wrong proof: %v", err)
	}
}

// TestRefreshSendsAppSecretProof (issue 13): the refresh carries
// appsecret_proof like every other Graph call with a user token, so an app
// with "Require App Secret" on keeps its tokens refreshed; the fake refuses
// a refresh without one (when required) or with a wrong one.
func TestRefreshSendsAppSecretProof(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
	tok := fx.fake.MintLongLivedToken("shop", scopes, fx.clock.Now().Add(-48*time.Hour))
	if _, err := fx.client.Refresh(ctx, tok); err != nil {
		t.Fatalf("refresh under Require App Secret: %v", err)
	}
	// The old string stays valid after a refresh (the fake rotates).
	noSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), Endpoints: fx.fake.Endpoints()})
	_, err := noSecret.Refresh(ctx, tok)
	if e := asError(t, err); e.Code != 100 || e.Message != "API calls from the server require an appsecret_proof argument" {
		t.Fatalf("without proof: %+v", e)
	}
	wrong := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "wrong", Endpoints: fx.fake.Endpoints()})
	if _, err := wrong.Refresh(ctx, tok); asError(t, err).Message != "Invalid appsecret_proof provided in the API argument" {
		t.Fatalf("wrong proof: %v", err)
	}
}

func TestDeniedAuthorization(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	loc := follow(t, fx.client.AuthorizeURL(redirectURI, scopes, "st", graph.DialogOptions{})+"&fake_deny=1")
	q := loc.Query()
	if q.Get("error") != "access_denied" || q.Get("error_reason") != "user_denied" || q.Get("error_description") == "" ||
		q.Get("state") != "st" || q.Has("code") {
		t.Fatalf("denial redirect %s", loc)
	}
}

// TestAuthorizeURLEnableFBLogin: enable_fb_login goes to the dialog as the
// App Dashboard's embed URL writes it, 1 or 0, and not at all when unset
// (Meta's default).
func TestAuthorizeURLEnableFBLogin(t *testing.T) {
	c := graph.New(graph.Config{AppID: "42"})
	on, off := true, false
	for _, tc := range []struct {
		opt  *bool
		want string
	}{{&on, "1"}, {&off, "0"}, {nil, ""}} {
		u, err := url.Parse(c.AuthorizeURL(redirectURI, scopes, "s", graph.DialogOptions{EnableFBLogin: tc.opt}))
		if err != nil {
			t.Fatal(err)
		}
		if got, has := u.Query().Get("enable_fb_login"), u.Query().Has("enable_fb_login"); got != tc.want || has != (tc.want != "") {
			t.Errorf("enable_fb_login = %q (present %v), want %q", got, has, tc.want)
		}
	}
}
