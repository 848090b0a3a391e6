package graph_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

var threadsScopes = []string{"threads_basic", "threads_content_publish"}

// TestThreadsAuthorizeURL: the Threads dialog at threads.net (or the
// configured base URL, prefix kept) with Meta's parameters, scopes
// comma-separated.
func TestThreadsAuthorizeURL(t *testing.T) {
	c := graph.New(graph.Config{AppID: "42", AppSecret: "s", Endpoints: graph.Endpoints{ThreadsAuthBaseURL: "http://127.0.0.1:9/threads.net/"}})
	u, err := url.Parse(c.ThreadsAuthorizeURL(redirectURI, threadsScopes, "st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "http://127.0.0.1:9/threads.net/oauth/authorize" {
		t.Errorf("dialog at %s", got)
	}
	want := url.Values{
		"client_id":     {"42"},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {"threads_basic,threads_content_publish"},
		"state":         {"st4te"},
	}
	if u.Query().Encode() != want.Encode() {
		t.Errorf("query = %v\nwant    %v", u.Query(), want)
	}
	u, _ = url.Parse(graph.New(graph.Config{AppID: "42"}).ThreadsAuthorizeURL(redirectURI, threadsScopes, "s"))
	if u.Scheme+"://"+u.Host != graph.DefaultThreadsAuthBaseURL || u.Path != "/oauth/authorize" {
		t.Errorf("default URL %s", u)
	}
}

// TestThreadsDefaultEndpoints: Threads' hosts default to Meta's, and
// overriding one keeps the other.
func TestThreadsDefaultEndpoints(t *testing.T) {
	d := graph.DefaultEndpoints()
	if d.ThreadsAuthBaseURL != "https://threads.net" || d.ThreadsGraphBaseURL != "https://graph.threads.net" || graph.ThreadsVersion != "v1.0" {
		t.Fatalf("defaults %+v, version %s", d, graph.ThreadsVersion)
	}
	ep := graph.New(graph.Config{Endpoints: graph.Endpoints{ThreadsGraphBaseURL: "http://127.0.0.1:1/th"}}).Endpoints()
	if ep.ThreadsGraphBaseURL != "http://127.0.0.1:1/th" || ep.ThreadsAuthBaseURL != d.ThreadsAuthBaseURL || ep.GraphBaseURL != d.GraphBaseURL {
		t.Fatalf("with one override: %+v", ep)
	}
}

func TestThreadsScopes(t *testing.T) {
	got := graph.ThreadsScopes()
	if strings.Join(got, ",") != "threads_basic,threads_content_publish,threads_manage_replies,threads_read_replies,threads_manage_insights" ||
		got[0] != graph.ThreadsScopeBasic {
		t.Fatalf("ThreadsScopes() = %v", got)
	}
	got[0] = "changed"
	if graph.ThreadsScopes()[0] != graph.ThreadsScopeBasic {
		t.Fatal("ThreadsScopes hands out shared state")
	}
	for name, want := range map[string]bool{"threads_basic": true, "threads_manage_insights": true, "instagram_business_basic": false, "": false} {
		if graph.IsThreadsScope(name) != want {
			t.Errorf("IsThreadsScope(%q) != %v", name, want)
		}
	}
}

// TestThreadsLoginFlow walks a Threads token's life against the fake:
// dialog, code (pasted with Meta's "#_"), short-lived, th_exchange_token,
// /v1.0/me, the 24-hour rule, th_refresh_token, and the 60-day death of
// the unrefreshed string.
func TestThreadsLoginFlow(t *testing.T) {
	fx := newFixture(t, graphtest.Options{})
	user := fx.fake.AddUser("shop")
	ctx := context.Background()

	loc := follow(t, fx.client.ThreadsAuthorizeURL(redirectURI, threadsScopes, "xyz"))
	if loc.Fragment != "_" || loc.Query().Get("state") != "xyz" || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("redirect %s", loc)
	}
	short, err := fx.client.ThreadsExchangeCode(ctx, loc.Query().Get("code")+"#_", redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	// Above 2^53, sent as a bare JSON number: exact or not at all.
	if short.UserID != user.ThreadsUserID || short.UserID != "25149591021376543" || !strings.HasPrefix(short.AccessToken, "TH") {
		t.Fatalf("short-lived %+v, user %+v", short, user)
	}

	long, err := fx.client.ThreadsExchangeForLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if long.ExpiresIn != int64(sixtyDays/time.Second) || long.TokenType != "bearer" || long.AccessToken == short.AccessToken {
		t.Fatalf("long-lived %+v", long)
	}
	me, err := fx.client.ThreadsMe(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != user.ThreadsUserID || me.UserID != me.ID || me.Username != "shop" || me.Name == "" {
		t.Fatalf("me %+v, user %+v", me, user)
	}

	fx.clock.Advance(23 * time.Hour)
	_, err = fx.client.ThreadsRefresh(ctx, long.AccessToken)
	if e := asError(t, err); e.Code != 100 || graph.Classify(err) != graph.ClassPermanent {
		t.Fatalf("young refresh: %v (class %v)", err, graph.Classify(err))
	}
	fx.clock.Advance(2 * time.Hour)
	refreshed, err := fx.client.ThreadsRefresh(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == long.AccessToken || refreshed.ExpiresIn != int64(sixtyDays/time.Second) {
		t.Fatalf("refreshed %+v", refreshed)
	}
	if st, _ := fx.fake.TokenInfo(refreshed.AccessToken); !st.ExpiresAt.Equal(fx.clock.Now().Add(sixtyDays)) || st.Kind != graphtest.KindThreadsLongLived {
		t.Fatalf("refreshed token at the fake: %+v", st)
	}

	// The first string dies 60 days after its issue; the refreshed one lives on.
	fx.clock.Advance(sixtyDays - 25*time.Hour)
	_, err = fx.client.ThreadsRefresh(ctx, long.AccessToken)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 463 || e.HTTPStatus != 400 || graph.Classify(err) != graph.ClassReauth {
		t.Fatalf("expired refresh: %v", err)
	}
	if _, err := fx.client.ThreadsRefresh(ctx, refreshed.AccessToken); err != nil {
		t.Fatalf("refresh of the live token: %v", err)
	}
	for name, want := range map[string]int{
		graphtest.EndpointThreadsAuthorize: 1, graphtest.EndpointThreadsExchangeCode: 1, graphtest.EndpointThreadsExchangeToken: 1,
		graphtest.EndpointThreadsMe: 1, graphtest.EndpointThreadsRefresh: 4,
		// Nothing went to Instagram's or Facebook's hosts.
		graphtest.EndpointRefresh: 0, graphtest.EndpointMe: 0, graphtest.EndpointExchangeCode: 0, graphtest.EndpointIGExchangeToken: 0,
	} {
		if got := fx.fake.Calls(name); got != want {
			t.Errorf("Calls(%s) = %d, want %d", name, got, want)
		}
	}
}

// TestThreadsExchangeCodeErrors: the code exchange's refusals come in the
// Graph shape (not api.instagram.com's flat one), are permanent, and never
// quote the code; an Instagram code is unknown at Threads.
func TestThreadsExchangeCodeErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	fresh := func() string { return fx.fake.MintThreadsCode("shop", threadsScopes, redirectURI) }
	used := fresh()
	if _, err := fx.client.ThreadsExchangeCode(ctx, used, redirectURI); err != nil {
		t.Fatal(err)
	}
	expired := fresh()
	wrongSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "nope", Endpoints: fx.fake.Endpoints()})
	tests := []struct {
		name              string
		client            *graph.Client
		code, uri         string
		wantCode, wantSub int
	}{
		{"used", fx.client, used, redirectURI, 100, 36009},
		{"unknown", fx.client, "AQBnope", redirectURI, 100, 0},
		{"instagram code", fx.client, fx.fake.MintCode("shop", scopes, redirectURI), redirectURI, 100, 0},
		{"redirect mismatch", fx.client, fresh(), redirectURI + "/", 100, 36008},
		{"wrong secret", wrongSecret, fresh(), redirectURI, 101, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ThreadsExchangeCode(ctx, tt.code, tt.uri)
			e := asError(t, err)
			if e.HTTPStatus != 400 || e.Code != tt.wantCode || e.Subcode != tt.wantSub || e.Type != "OAuthException" || e.FBTraceID == "" {
				t.Fatalf("got %+v", e)
			}
			if graph.Classify(err) != graph.ClassPermanent {
				t.Fatalf("class %v", graph.Classify(err))
			}
			if strings.Contains(err.Error(), tt.code) || strings.Contains(err.Error(), "nope") {
				t.Fatalf("error quotes a secret: %v", err)
			}
		})
	}
	fx.clock.Advance(61 * time.Minute)
	if _, err := fx.client.ThreadsExchangeCode(ctx, expired, redirectURI); asError(t, err).Message != "This authorization code has expired." {
		t.Fatalf("expired code: %v", err)
	}
	before := fx.fake.Calls(graphtest.EndpointThreadsExchangeCode)
	if _, err := fx.client.ThreadsExchangeCode(ctx, " #_ ", redirectURI); err == nil || fx.fake.Calls(graphtest.EndpointThreadsExchangeCode) != before {
		t.Fatalf("empty code: %v (an empty code must not reach Meta)", err)
	}
}

// TestThreadsExchangeForLongLivedErrors: a long-lived token or another
// app's secret is refused with code 100 (what the engine reads as "already
// long-lived" for Instagram), an expired short-lived token with 190/463.
func TestThreadsExchangeForLongLivedErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	short := fx.fake.MintThreadsShortLivedToken("shop", nil)
	long := fx.fake.MintThreadsLongLivedToken("shop", nil, fx.clock.Now())
	wrongSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: "other-app", Endpoints: fx.fake.Endpoints()})
	for name, call := range map[string]func() error{
		"long-lived token": func() error { _, err := fx.client.ThreadsExchangeForLongLived(ctx, long); return err },
		"wrong secret":     func() error { _, err := wrongSecret.ThreadsExchangeForLongLived(ctx, short); return err },
	} {
		if e := asError(t, call()); e.Code != graph.CodeInvalidParameter || graph.Classify(e) != graph.ClassPermanent {
			t.Errorf("%s: %+v", name, e)
		}
	}
	fx.clock.Advance(time.Hour)
	_, err := fx.client.ThreadsExchangeForLongLived(ctx, short)
	if e := asError(t, err); e.Code != 190 || e.Subcode != 463 {
		t.Fatalf("expired short-lived: %+v", e)
	}
}

// TestThreadsRefreshErrors: each refusal of th_refresh_token and the class
// the engine acts on: a revoked or unknown token (190, re-authorize), a
// short-lived token (100), a token granted without threads_basic (a
// permission error: re-authorize), and appsecret_proof under "Require App
// Secret".
func TestThreadsRefreshErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
	old := fx.clock.Now().Add(-48 * time.Hour)
	revoked := fx.fake.MintThreadsLongLivedToken("shop", nil, old)
	fx.fake.Revoke(revoked)
	noBasic := fx.fake.MintThreadsLongLivedToken("shop", []string{"threads_content_publish"}, old)
	short := fx.fake.MintThreadsShortLivedToken("shop", nil)
	good := fx.fake.MintThreadsLongLivedToken("shop", nil, old)

	for _, tc := range []struct {
		name          string
		token         string
		code, subcode int
		class         graph.Class
	}{
		{"revoked", revoked, 190, 467, graph.ClassReauth},
		{"unknown", "THAAunknown", 190, 0, graph.ClassReauth},
		{"short-lived", short, 100, 0, graph.ClassPermanent},
		{"without threads_basic", noBasic, 10, 0, graph.ClassReauth},
	} {
		_, err := fx.client.ThreadsRefresh(ctx, tc.token)
		if e := asError(t, err); e.Code != tc.code || e.Subcode != tc.subcode || e.HTTPStatus != 400 || graph.Classify(err) != tc.class {
			t.Errorf("%s: %+v (class %v)", tc.name, e, graph.Classify(err))
		}
		if strings.Contains(err.Error(), tc.token) {
			t.Errorf("%s: the error quotes the token", tc.name)
		}
	}
	if _, err := fx.client.ThreadsMe(ctx, noBasic); asError(t, err).Code != 10 {
		t.Fatalf("me without threads_basic: %v", err)
	}

	noSecret := graph.New(graph.Config{AppID: fx.fake.AppID(), Endpoints: fx.fake.Endpoints()})
	if _, err := noSecret.ThreadsRefresh(ctx, good); asError(t, err).Message != "API calls from the server require an appsecret_proof argument" {
		t.Fatalf("without proof: %v", err)
	}
	if _, err := noSecret.ThreadsMe(ctx, good); asError(t, err).Message != "API calls from the server require an appsecret_proof argument" {
		t.Fatalf("me without proof: %v", err)
	}
	if _, err := fx.client.ThreadsRefresh(ctx, good); err != nil {
		t.Fatalf("with proof: %v", err)
	}
}

// TestThreadsTokensStayOnTheirHosts: a Threads token sent to Instagram's
// hosts, or an Instagram token to Threads', is a 190 at HTTP 400, as Meta
// answers a token it cannot parse; never a success.
func TestThreadsTokensStayOnTheirHosts(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, graphtest.Options{})
	issued := fx.clock.Now().Add(-48 * time.Hour)
	th := fx.fake.MintThreadsLongLivedToken("shop", nil, issued)
	ig := fx.fake.MintLongLivedToken("shop", scopes, issued)
	for name, call := range map[string]func() error{
		"threads token, instagram refresh":   func() error { _, err := fx.client.Refresh(ctx, th); return err },
		"threads token, instagram me":        func() error { _, err := fx.client.Me(ctx, th); return err },
		"threads token, ig_exchange_token":   func() error { _, err := fx.client.ExchangeForLongLived(ctx, th); return err },
		"instagram token, threads refresh":   func() error { _, err := fx.client.ThreadsRefresh(ctx, ig); return err },
		"instagram token, threads me":        func() error { _, err := fx.client.ThreadsMe(ctx, ig); return err },
		"instagram token, th_exchange_token": func() error { _, err := fx.client.ThreadsExchangeForLongLived(ctx, ig); return err },
	} {
		err := call()
		if e := asError(t, err); e.Code != 190 || e.HTTPStatus != 400 || graph.Classify(err) != graph.ClassReauth {
			t.Errorf("%s: %v", name, err)
		}
	}
}
