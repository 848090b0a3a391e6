package graph_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

var fbScopes = []string{"instagram_basic", "pages_show_list", "pages_read_engagement"}

func TestFacebookAuthorizeURL(t *testing.T) {
	c := graph.New(graph.Config{AppID: "42", Endpoints: graph.Endpoints{Version: "v24.0"}})
	u, err := url.Parse(c.FacebookAuthorizeURL(redirectURI, fbScopes, "st", ""))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "www.facebook.com" || u.Path != "/v24.0/dialog/oauth" || q.Get("client_id") != "42" ||
		q.Get("scope") != "instagram_basic,pages_show_list,pages_read_engagement" || q.Get("state") != "st" ||
		q.Get("response_type") != "code" || q.Get("redirect_uri") != redirectURI {
		t.Fatalf("dialog URL %s", u)
	}
}

// TestFacebookLoginFlow: dialog, code exchange through oauth2, long-lived
// user token, Pages with their tokens, debug_token, the app token.
func TestFacebookLoginFlow(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
	user := fx.fake.AddUser("shop")

	loc := follow(t, fx.client.FacebookAuthorizeURL(redirectURI, fbScopes, "st", ""))
	if loc.Fragment != "_=_" || loc.Query().Get("state") != "st" {
		t.Fatalf("redirect %s", loc)
	}
	short, err := fx.client.FacebookExchangeCode(ctx, loc.Query().Get("code")+"#_=_", redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if short.ExpiresIn != int64(2*time.Hour/time.Second) || short.AccessToken == "" {
		t.Fatalf("user token %+v", short)
	}
	long, err := fx.client.FacebookExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if long.ExpiresIn != int64(sixtyDays/time.Second) || long.TokenType != "bearer" {
		t.Fatalf("long-lived user token %+v", long)
	}

	pages, err := fx.client.Pages(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || pages[0].ID != user.PageID || pages[0].InstagramBusinessAccountID != user.UserID || pages[0].AccessToken == "" {
		t.Fatalf("pages %+v, user %+v", pages, user)
	}
	again, err := fx.client.Pages(ctx, long.AccessToken)
	if err != nil || again[0].AccessToken != pages[0].AccessToken {
		t.Fatalf("Page token changed between calls: %v", err)
	}

	fx.clock.Advance(90 * day) // Page tokens outlive the user token.
	info, err := fx.client.DebugToken(ctx, pages[0].AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsValid || info.Type != "PAGE" || !info.ExpiresAt.IsZero() || info.AppID != fx.fake.AppID() ||
		info.UserID != user.ID || strings.Join(info.Scopes, ",") != strings.Join(fbScopes, ",") || info.Error != nil {
		t.Fatalf("page token info %+v", info)
	}
	info, err = fx.client.DebugToken(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if info.IsValid || info.Type != "USER" || info.Error == nil || info.Error.Subcode != 463 || graph.Classify(info.Error) != graph.ClassReauth {
		t.Fatalf("expired user token info %+v / %+v", info, info.Error)
	}
	if strings.Contains(info.Error.Message, long.AccessToken) {
		t.Fatal("debug_token error quotes the token")
	}
	info, err = fx.client.DebugToken(ctx, "EAAunknown")
	if err != nil || info.IsValid || info.Error == nil || info.Error.Code != 190 {
		t.Fatalf("unknown token info %+v, %v", info, err)
	}

	app, err := fx.client.AppToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(app.AccessToken, fx.fake.AppID()+"|") || app.ExpiresIn != 0 {
		t.Fatalf("app token %+v", app)
	}
	if st, ok := fx.fake.TokenInfo(app.AccessToken); !ok || st.Kind != graphtest.KindApp {
		t.Fatalf("app token unknown to the fake: %+v", st)
	}
	for name, want := range map[string]int{
		graphtest.EndpointFacebookAuthorize: 1, graphtest.EndpointFacebookExchangeCode: 1,
		graphtest.EndpointFacebookExchangeToken: 1, graphtest.EndpointPages: 2,
		graphtest.EndpointDebugToken: 3, graphtest.EndpointAppToken: 1,
	} {
		if got := fx.fake.Calls(name); got != want {
			t.Errorf("Calls(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestFacebookErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	code := fx.fake.MintFacebookCode("shop", fbScopes, redirectURI)
	if _, err := fx.client.FacebookExchangeCode(ctx, code, redirectURI); err != nil {
		t.Fatal(err)
	}
	// A reused code comes back through golang.org/x/oauth2 as Graph's
	// error object, which must still map onto *Error.
	_, err := fx.client.FacebookExchangeCode(ctx, code, redirectURI)
	e := asError(t, err)
	if e.Code != 100 || e.Subcode != 36009 || e.HTTPStatus != 400 || e.FBTraceID == "" || graph.Classify(err) != graph.ClassPermanent {
		t.Fatalf("reused code: %+v", e)
	}
	if strings.Contains(err.Error(), code) {
		t.Fatalf("error quotes the code: %v", err)
	}
	// An Instagram code is not a Facebook one.
	if _, err := fx.client.FacebookExchangeCode(ctx, fx.fake.MintCode("shop", nil, redirectURI), redirectURI); asError(t, err).Code != 100 {
		t.Fatalf("instagram code on facebook: %v", err)
	}

	wrong := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "wrong-secret", Endpoints: fx.fake.Endpoints()})
	_, err = wrong.AppToken(ctx)
	if e := asError(t, err); e.Code != 101 || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("app token with a wrong secret: %v", err)
	}
	_, err = wrong.FacebookExchangeCode(ctx, fx.fake.MintFacebookCode("shop", fbScopes, redirectURI), redirectURI)
	if asError(t, err).Code != 101 {
		t.Fatalf("code exchange with a wrong secret: %v", err)
	}

	// Facebook has no refresh: an expired user token cannot be exchanged.
	tok := fx.fake.MintFacebookUserToken("shop", fbScopes, fx.clock.Now(), false)
	fx.clock.Advance(3 * time.Hour)
	_, err = fx.client.FacebookExchangeLongLived(ctx, tok)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 463 {
		t.Fatalf("expired user token: %+v", e)
	}
	// An Instagram token means nothing to graph.facebook.com.
	_, err = fx.client.Pages(ctx, fx.fake.MintLongLivedToken("shop", nil, fx.clock.Now()))
	if asError(t, err).Code != 190 {
		t.Fatalf("instagram token on me/accounts: %v", err)
	}

	fx.fake.Fail(graphtest.EndpointFacebookExchangeCode, 1, graphtest.Failure{Oversize: true})
	if _, err := fx.client.FacebookExchangeCode(ctx, "AQBx", redirectURI); graph.Classify(err) != graph.ClassTransient {
		t.Fatalf("oversize through oauth2: %v", err)
	}
	fx.fake.Fail(graphtest.EndpointAppToken, 1, graphtest.Failure{Malformed: true})
	if _, err := fx.client.AppToken(ctx); graph.Classify(err) != graph.ClassTransient {
		t.Fatalf("malformed through oauth2: %v", err)
	}
	fx.fake.Fail(graphtest.EndpointAppToken, 1, graphtest.Throttled(4, 1))
	if _, err := fx.client.AppToken(ctx); graph.Classify(err) != graph.ClassThrottled || asError(t, err).RetryAfter != time.Minute {
		t.Fatalf("throttled through oauth2: %v", err)
	}
}

func TestPagesFollowsCursors(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	user := fx.fake.AddUser("agency")
	for i := range 140 {
		if _, ok := fx.fake.AddPage(user.UserID, fmt.Sprintf("Page %d", i)); !ok {
			t.Fatal("AddPage")
		}
	}
	tok := fx.fake.MintFacebookUserToken(user.Username, fbScopes, fx.clock.Now(), true)
	pages, err := fx.client.Pages(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pages {
		seen[p.ID] = true
	}
	if len(pages) != 141 || len(seen) != 141 || fx.fake.Calls(graphtest.EndpointPages) != 2 {
		t.Fatalf("%d pages (%d distinct) in %d calls", len(pages), len(seen), fx.fake.Calls(graphtest.EndpointPages))
	}
}
