package graphtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// threadsDialog opens the fake's Threads dialog with Meta's parameters and
// extra ones over them.
func threadsDialog(t *testing.T, s *Server, extra url.Values) response {
	t.Helper()
	q := url.Values{"client_id": {s.AppID()}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"threads_basic,threads_content_publish"}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	return do(t, http.MethodGet, s.Endpoints().ThreadsAuthBaseURL+"/oauth/authorize?"+q.Encode(), nil)
}

func TestThreadsDialog(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	r := threadsDialog(t, s, nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || !strings.HasSuffix(r.header.Get("Location"), "#_") || loc.Query().Get("state") != "st" ||
		!strings.HasPrefix(loc.Query().Get("code"), "AQB") {
		t.Fatalf("approval: %d %s", r.status, r.header.Get("Location"))
	}
	s.mu.Lock()
	c := s.state.codes[loc.Query().Get("code")]
	s.mu.Unlock()
	if c.product != productThreads || strings.Join(c.scopes, ",") != "threads_basic,threads_content_publish" {
		t.Fatalf("code %+v", c)
	}
	// Space-separated scopes, as Meta's Threads page allows.
	if r := threadsDialog(t, s, url.Values{"scope": {"threads_basic threads_read_replies"}}); r.status != http.StatusFound {
		t.Fatalf("space-separated scopes: %d %s", r.status, r.body)
	}
	r = threadsDialog(t, s, url.Values{"fake_deny": {"1"}})
	loc, _ = url.Parse(r.header.Get("Location"))
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Has("code") || q.Get("state") != "st" {
		t.Fatalf("denial: %s", loc)
	}

	graphErr(t, threadsDialog(t, s, url.Values{"client_id": {"999"}}), 101)
	if e := graphErr(t, threadsDialog(t, s, url.Values{"scope": {"threads_basic,instagram_business_basic"}}), 100); e["message"] != "Invalid Scopes: instagram_business_basic" {
		t.Fatalf("foreign scope: %v", e)
	}
	if e := graphErr(t, threadsDialog(t, s, url.Values{"scope": {"threads_content_publish"}}), 100); e["message"] != "Invalid Scopes: threads_basic is required" {
		t.Fatalf("without threads_basic: %v", e)
	}
	graphErr(t, threadsDialog(t, s, url.Values{"response_type": {"token"}}), 100)
	if s.Calls(EndpointThreadsAuthorize) != 7 || s.Calls(EndpointAuthorize) != 0 {
		t.Fatalf("Calls(threads_authorize) = %d", s.Calls(EndpointThreadsAuthorize))
	}

	s.SetConsentPage(true)
	r = threadsDialog(t, s, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Log in with Threads: continue as") || !strings.Contains(r.body, "threads_basic, threads_content_publish") {
		t.Fatalf("consent page: %d %s", r.status, r.body)
	}
}

func TestThreadsExchangeCodeWire(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	u := s.AddUser("shop")
	endpoint := s.Endpoints().ThreadsGraphBaseURL + "/oauth/access_token"
	form := func(code string) url.Values {
		return url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "grant_type": {"authorization_code"},
			"redirect_uri": {redirectURI}, "code": {code}}
	}

	// user_id: a bare JSON number above 2^53 (checked on the raw text).
	code := s.MintThreadsCode("shop", nil, redirectURI)
	r := do(t, http.MethodPost, endpoint, form(code))
	tok, _ := r.json["access_token"].(string)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"user_id":`+u.ThreadsUserID) || !strings.HasPrefix(tok, "THAA") || len(r.json) != 2 {
		t.Fatalf("exchange: %s", r.body)
	}
	st, _ := s.TokenInfo(tok)
	if st.Kind != KindThreadsShortLived || !st.ExpiresAt.Equal(clock.Now().Add(ShortLivedLifetime)) || strings.Join(st.Scopes, ",") != "threads_basic" {
		t.Fatalf("token %+v (no scopes given: threads_basic)", st)
	}
	// Single use, Graph-style errors (never api.instagram.com's flat shape).
	if e := graphErr(t, do(t, http.MethodPost, endpoint, form(code)), 100); e["error_subcode"] != float64(36009) {
		t.Fatalf("reused code: %v", e)
	}
	graphErr(t, do(t, http.MethodGet, endpoint+"?"+form(s.MintThreadsCode("shop", nil, redirectURI)).Encode(), nil), 100)
	f := form(s.MintThreadsCode("shop", nil, redirectURI))
	f.Set("client_secret", "other")
	graphErr(t, do(t, http.MethodPost, endpoint, f), 101)
	f.Del("client_secret")
	graphErr(t, do(t, http.MethodPost, endpoint, f), 100)

	// Codes belong to their product: an Instagram code is unknown here, a
	// Threads code at api.instagram.com.
	graphErr(t, do(t, http.MethodPost, endpoint, form(s.MintCode("shop", nil, redirectURI))), 100)
	flatErr(t, do(t, http.MethodPost, s.Endpoints().APIBaseURL+"/oauth/access_token", form(s.MintThreadsCode("shop", nil, redirectURI))),
		"Matching code was not found or was already used")
	graphErr(t, do(t, http.MethodGet, s.Endpoints().FacebookGraphBaseURL+"/oauth/access_token?"+form(s.MintThreadsCode("shop", nil, redirectURI)).Encode(), nil), 100)

	// A code lives an hour.
	late := s.MintThreadsCode("shop", nil, redirectURI)
	clock.Advance(CodeLifetime)
	if e := graphErr(t, do(t, http.MethodPost, endpoint, form(late)), 100); e["message"] != "This authorization code has expired." {
		t.Fatalf("expired code: %v", e)
	}
}

// TestThreadsTokenRules: the rules of Meta's Threads token pages, at the
// wire: th_exchange_token takes a live short-lived token; th_refresh_token a
// long-lived one at least 24 hours old, not expired, granted threads_basic,
// and the refreshed token lives 60 days from the refresh; an unrefreshed
// token dies 60 days after its issue.
func TestThreadsTokenRules(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	g := s.Endpoints().ThreadsGraphBaseURL
	exchange := func(tok string) response {
		return do(t, http.MethodGet, g+"/access_token?grant_type=th_exchange_token&client_secret="+s.AppSecret()+"&access_token="+tok, nil)
	}
	refresh := func(tok string) response {
		return do(t, http.MethodGet, g+"/refresh_access_token?grant_type=th_refresh_token&access_token="+tok, nil)
	}

	short := s.MintThreadsShortLivedToken("shop", nil)
	r := exchange(short)
	long, _ := r.json["access_token"].(string)
	if r.status != http.StatusOK || r.json["expires_in"] != float64(LongLivedLifetime/time.Second) || r.json["token_type"] != "bearer" {
		t.Fatalf("th_exchange_token: %s", r.body)
	}
	graphErr(t, exchange(long), 100)
	graphErr(t, do(t, http.MethodGet, g+"/access_token?grant_type=ig_exchange_token&client_secret="+s.AppSecret()+"&access_token="+short, nil), 100)
	graphErr(t, refresh(short), 100)
	graphErr(t, do(t, http.MethodGet, g+"/refresh_access_token?grant_type=ig_refresh_token&access_token="+long, nil), 100)
	graphErr(t, do(t, http.MethodPost, g+"/refresh_access_token", url.Values{"grant_type": {"th_refresh_token"}, "access_token": {long}}), 100)

	clock.Advance(MinRefreshAge - time.Second)
	if e := graphErr(t, refresh(long), 100); !strings.Contains(e["message"].(string), "24 hours") {
		t.Fatalf("23:59:59 old: %v", e)
	}
	clock.Advance(time.Second)
	r = refresh(long)
	renewed, _ := r.json["access_token"].(string)
	if r.status != http.StatusOK || renewed == long || r.json["expires_in"] != float64(LongLivedLifetime/time.Second) {
		t.Fatalf("refresh at 24 h: %s", r.body)
	}
	if st, _ := s.TokenInfo(renewed); st.Kind != KindThreadsLongLived || !st.ExpiresAt.Equal(clock.Now().Add(LongLivedLifetime)) {
		t.Fatalf("renewed %+v", st)
	}

	// Unrefreshed, long dies 60 days after its issue; renewed, a day
	// younger, still lives, and without rotation a refresh extends the
	// string itself.
	clock.Advance(LongLivedLifetime - MinRefreshAge)
	if e := graphErr(t, refresh(long), 190); e["error_subcode"] != float64(subcodeExpired) {
		t.Fatalf("unrefreshed after 60 days: %v", e)
	}
	graphErr(t, do(t, http.MethodGet, g+"/v1.0/me?access_token="+long, nil), 190)
	s.SetRotateOnRefresh(false)
	if r := refresh(renewed); r.json["access_token"] != renewed {
		t.Fatalf("refresh without rotation: %s", r.body)
	}
	if st, _ := s.TokenInfo(renewed); !st.ExpiresAt.Equal(clock.Now().Add(LongLivedLifetime)) {
		t.Fatalf("extended %+v", st)
	}

	noBasic := s.MintThreadsLongLivedToken("shop", []string{"threads_read_replies"}, clock.Now().Add(-48*time.Hour))
	graphErr(t, refresh(noBasic), 10)
	graphErr(t, do(t, http.MethodGet, g+"/v1.0/me?access_token="+noBasic, nil), 10)
}

func TestThreadsMeWire(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	u := s.AddUser("shop")
	tok := s.MintThreadsLongLivedToken("shop", nil, s.Now())
	g := s.Endpoints().ThreadsGraphBaseURL
	r := do(t, http.MethodGet, g+"/v1.0/me?fields=id,username,name,threads_biography,is_verified&access_token="+tok, nil)
	if r.status != http.StatusOK || r.json["id"] != u.ThreadsUserID || r.json["username"] != "shop" || r.json["is_verified"] != false || len(r.json) != 5 {
		t.Fatalf("me: %s", r.body)
	}
	if r := do(t, http.MethodGet, g+"/me?access_token="+tok, nil); r.status != http.StatusOK || r.json["id"] != u.ThreadsUserID || len(r.json) != 1 {
		t.Fatalf("unversioned me, default fields: %s", r.body)
	}
	graphErr(t, do(t, http.MethodGet, g+"/v25.0/me?access_token="+tok, nil), 100)
	graphErr(t, do(t, http.MethodGet, g+"/v1.0/me?fields=account_type&access_token="+tok, nil), 100)
}

// TestThreadsTokensNeverCrossHosts: the fake never accepts a Threads token
// at Instagram's or Facebook's hosts, nor theirs at Threads': Meta answers a
// token it cannot parse with 190 at HTTP 400, and so does the fake.
func TestThreadsTokensNeverCrossHosts(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	ep := s.Endpoints()
	issued := clock.Now().Add(-48 * time.Hour)
	th := s.MintThreadsLongLivedToken("shop", nil, issued)
	thShort := s.MintThreadsShortLivedToken("shop", nil)
	ig := s.MintLongLivedToken("shop", []string{"instagram_business_basic"}, issued)
	igShort := s.MintShortLivedToken("shop", nil)
	fb := s.MintFacebookUserToken("shop", []string{"instagram_basic"}, clock.Now(), true)

	for name, u := range map[string]string{
		"threads token, graph.instagram.com refresh": ep.GraphBaseURL + "/refresh_access_token?grant_type=ig_refresh_token&access_token=" + th,
		"threads token, graph.instagram.com me":      ep.GraphBaseURL + "/v25.0/me?access_token=" + th,
		"threads token, ig_exchange_token":           ep.GraphBaseURL + "/access_token?grant_type=ig_exchange_token&client_secret=" + s.AppSecret() + "&access_token=" + thShort,
		"threads token, fb_exchange_token":           ep.FacebookGraphBaseURL + "/oauth/access_token?grant_type=fb_exchange_token&client_id=" + s.AppID() + "&client_secret=" + s.AppSecret() + "&fb_exchange_token=" + th,
		"threads token, me/accounts":                 ep.FacebookGraphBaseURL + "/v25.0/me/accounts?access_token=" + th,
		"instagram token, graph.threads.net refresh": ep.ThreadsGraphBaseURL + "/refresh_access_token?grant_type=th_refresh_token&access_token=" + ig,
		"instagram token, graph.threads.net me":      ep.ThreadsGraphBaseURL + "/v1.0/me?access_token=" + ig,
		"instagram token, th_exchange_token":         ep.ThreadsGraphBaseURL + "/access_token?grant_type=th_exchange_token&client_secret=" + s.AppSecret() + "&access_token=" + igShort,
		"facebook token, graph.threads.net refresh":  ep.ThreadsGraphBaseURL + "/refresh_access_token?grant_type=th_refresh_token&access_token=" + fb,
		"facebook token, graph.threads.net me":       ep.ThreadsGraphBaseURL + "/v1.0/me?access_token=" + fb,
	} {
		t.Run(name, func(t *testing.T) {
			e := graphErr(t, do(t, http.MethodGet, u, nil), 190)
			if e["message"] != errCannotParseToken().message {
				t.Fatalf("%v", e)
			}
		})
	}
	// debug_token on graph.facebook.com does not know a Threads token either.
	r := do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/v25.0/debug_token?input_token="+th+"&access_token="+url.QueryEscape(s.AppID()+"|"+s.AppSecret()), nil)
	if data, _ := r.json["data"].(map[string]any); data["is_valid"] != false {
		t.Fatalf("debug_token of a Threads token: %s", r.body)
	}
	// And every token is where it was: nothing was refreshed.
	if st, _ := s.TokenInfo(th); !st.ExpiresAt.Equal(issued.Add(LongLivedLifetime)) {
		t.Fatalf("threads token %+v", st)
	}
}

// TestThreadsAdminAPI: codes and tokens for Threads through the admin API,
// as make dev and e2e mint them.
func TestThreadsAdminAPI(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	post := func(path, body string) response {
		t.Helper()
		resp, err := http.Post(s.URL()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, body: string(b)}
		_ = json.Unmarshal(b, &r.json)
		return r
	}
	r := post("/_fake/users", `{"username":"poster"}`)
	threadsID, _ := r.json["threads_user_id"].(string)
	if r.status != 200 || threadsID == "" || threadsID == r.json["user_id"] {
		t.Fatalf("users: %s", r.body)
	}
	r = post("/_fake/codes", `{"username":"poster","login":"threads","scopes":["threads_basic"],"redirect_uri":"`+redirectURI+`"}`)
	code, _ := r.json["code"].(string)
	if code == "" || r.json["user_id"] != threadsID {
		t.Fatalf("codes: %s", r.body)
	}
	form := url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code": {code}}
	if r := do(t, http.MethodPost, s.Endpoints().ThreadsGraphBaseURL+"/oauth/access_token", form); r.status != 200 {
		t.Fatalf("exchanging an admin Threads code: %s", r.body)
	}
	r = post("/_fake/tokens", `{"username":"poster","kind":"threads_long","issued_at":"2026-01-01T00:00:00Z"}`)
	if tok, _ := r.json["access_token"].(string); !strings.HasPrefix(tok, "THAA") || r.json["kind"] != "threads_long" ||
		r.json["expires_at"] != "2026-03-02T00:00:00Z" || r.json["user_id"] != threadsID {
		t.Fatalf("tokens: %s", r.body)
	}
	if r := post("/_fake/tokens", `{"username":"poster","kind":"threads_short"}`); r.json["kind"] != "threads_short" {
		t.Fatalf("short tokens: %s", r.body)
	}
	if r := post("/_fake/codes", `{"login":"tiktok","redirect_uri":"`+redirectURI+`"}`); r.status != 400 {
		t.Fatalf("unknown login: %s", r.body)
	}
	if r := post("/_fake/fail", `{"endpoint":"threads_refresh","failure":{"status":503}}`); r.status != 200 {
		t.Fatalf("fail: %s", r.body)
	}
	if r := do(t, http.MethodGet, s.Endpoints().ThreadsGraphBaseURL+"/refresh_access_token", nil); r.status != 503 {
		t.Fatalf("injected failure: %d", r.status)
	}
	if u, ok := s.User(threadsID); !ok || u.Username != "poster" {
		t.Fatal("User does not find a user by Threads id")
	}
}

// TestThreadsAppProblem: an app-level problem answers graph.threads.net's
// endpoints too, but not the Threads dialog.
func TestThreadsAppProblem(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	tok := s.MintThreadsLongLivedToken("shop", nil, s.Now())
	s.SetAppProblem("blocked")
	graphErr(t, do(t, http.MethodGet, s.Endpoints().ThreadsGraphBaseURL+"/v1.0/me?access_token="+tok, nil), 368)
	if r := threadsDialog(t, s, nil); r.status != http.StatusFound {
		t.Fatalf("dialog under an app problem: %d", r.status)
	}
}
