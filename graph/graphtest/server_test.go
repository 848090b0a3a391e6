package graphtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

const redirectURI = "https://vault.example.com/v1/instagram/callback"

func newTestServer(t *testing.T, opts Options) (*Server, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts.Now = clock.Now
	s := New(opts)
	t.Cleanup(s.Close)
	return s, clock
}

type response struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func do(t *testing.T, method, rawURL string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &r.json)
	return r
}

// graphErr returns the Graph error object of r, failing unless r is a 400
// JSON answer carrying one with the code.
func graphErr(t *testing.T, r response, code int) map[string]any {
	t.Helper()
	e, _ := r.json["error"].(map[string]any)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || e == nil || e["code"] != float64(code) {
		t.Fatalf("want a 400 JSON Graph error with code %d, got %d %s %s", code, r.status, r.header.Get("Content-Type"), r.body)
	}
	return e
}

func flatErr(t *testing.T, r response, msg string) {
	t.Helper()
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") ||
		r.json["error_type"] != "OAuthException" || r.json["code"] != float64(400) || r.json["error_message"] != msg {
		t.Fatalf("want flat error %q, got %d %s", msg, r.status, r.body)
	}
}

func TestAuthorizeDialog(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	ep := s.Endpoints()
	dialog := func(extra url.Values) response {
		q := url.Values{"client_id": {s.AppID()}, "redirect_uri": {redirectURI + "?keep=1"}, "response_type": {"code"},
			"scope": {"instagram_business_basic,instagram_business_manage_comments"}, "state": {"st"}}
		for k, v := range extra {
			q[k] = v
		}
		return do(t, http.MethodGet, ep.AuthBaseURL+"/oauth/authorize?"+q.Encode(), nil)
	}

	r := dialog(nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || !strings.HasSuffix(r.header.Get("Location"), "#_") || loc.Query().Get("keep") != "1" ||
		loc.Query().Get("state") != "st" || !strings.HasPrefix(loc.Query().Get("code"), "AQB") {
		t.Fatalf("approval: %d %s", r.status, r.header.Get("Location"))
	}
	if u, ok := s.User(defaultAuthorizedUser); !ok || u.Username != "fake_user" {
		t.Fatal("the default user was not created")
	}

	r = dialog(url.Values{"fake_user": {"other"}})
	code := mustQuery(t, r, "code")
	s.mu.Lock()
	owner := s.state.codes[code].userID
	s.mu.Unlock()
	if other, _ := s.User("other"); owner != other.UserID {
		t.Fatal("fake_user did not choose the user")
	}

	r = dialog(url.Values{"fake_deny": {"1"}})
	loc, _ = url.Parse(r.header.Get("Location"))
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("error_reason") != "user_denied" || q.Has("code") || q.Get("state") != "st" {
		t.Fatalf("denial: %s", loc)
	}

	flatErr(t, dialog(url.Values{"client_id": {"999"}}), "Invalid platform app")
	flatErr(t, dialog(url.Values{"scope": {"business_basic"}}), "Invalid Scopes: business_basic")
	// The reference page's host works too.
	if r := do(t, http.MethodGet, strings.Replace(ep.AuthBaseURL, "www.instagram.com", "api.instagram.com", 1)+
		"/oauth/authorize?client_id="+s.AppID()+"&response_type=code&redirect_uri="+url.QueryEscape(redirectURI), nil); r.status != http.StatusFound {
		t.Fatalf("api.instagram.com dialog: %d", r.status)
	}
	if s.Calls(EndpointAuthorize) != 6 {
		t.Fatalf("Calls(authorize) = %d", s.Calls(EndpointAuthorize))
	}
}

func mustQuery(t *testing.T, r response, key string) string {
	t.Helper()
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || loc.Query().Get(key) == "" {
		t.Fatalf("no %s in %q", key, r.header.Get("Location"))
	}
	return loc.Query().Get(key)
}

func TestExchangeCodeWire(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	u := s.AddUser("shop")
	endpoint := s.Endpoints().APIBaseURL + "/oauth/access_token"
	form := func(code string) url.Values {
		return url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "grant_type": {"authorization_code"},
			"redirect_uri": {redirectURI}, "code": {code}}
	}

	// Alternating shapes: first the documented envelope, then flat with a
	// bare number above 2^53 (checked on the raw text: decoding through
	// float64 here would hide the point).
	r := do(t, http.MethodPost, endpoint, form(s.MintCode("shop", []string{"instagram_business_basic", "x"}, redirectURI)))
	if !strings.Contains(r.body, `"user_id":"`+u.UserID+`"`) || !strings.Contains(r.body, `"permissions":"instagram_business_basic,x"`) || !strings.HasPrefix(r.body, `{"data":[{`) {
		t.Fatalf("envelope: %s", r.body)
	}
	r = do(t, http.MethodPost, endpoint, form(s.MintCode("shop", []string{"instagram_business_basic"}, redirectURI)))
	if !strings.Contains(r.body, `"user_id":`+u.UserID+`,`) && !strings.Contains(r.body, `"user_id":`+u.UserID+`}`) || !strings.Contains(r.body, `"permissions":["instagram_business_basic"]`) {
		t.Fatalf("flat: %s", r.body)
	}

	flatErr(t, do(t, http.MethodGet, endpoint+"?"+form("x").Encode(), nil), "Invalid request: this endpoint only accepts POST")
	// The form body, not the query, is what counts.
	flatErr(t, do(t, http.MethodPost, endpoint+"?"+form("x").Encode(), url.Values{}), "Missing required parameter: client_id")
	f := form(s.MintCode("shop", nil, redirectURI))
	f.Set("grant_type", "client_credentials")
	flatErr(t, do(t, http.MethodPost, endpoint, f), "Unsupported grant_type")

	// A mismatched redirect_uri leaves the code usable.
	code := s.MintCode("shop", nil, redirectURI)
	f = form(code)
	f.Set("redirect_uri", "https://evil.example/cb")
	flatErr(t, do(t, http.MethodPost, endpoint, f), "Redirect URI doesn't match original redirect URI")
	if r := do(t, http.MethodPost, endpoint, form(code)); r.status != http.StatusOK {
		t.Fatalf("after a mismatch: %s", r.body)
	}
	flatErr(t, do(t, http.MethodPost, endpoint, form(code)), "This authorization code has been used")
}

func TestShortLivedTokenExpiry(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	tok := s.MintShortLivedToken("shop", nil)
	me := s.Endpoints().GraphBaseURL + "/v25.0/me?fields=id,username&access_token=" + tok
	if r := do(t, http.MethodGet, me, nil); r.status != http.StatusOK || r.json["username"] != "shop" || len(r.json) != 2 {
		t.Fatalf("me: %s", r.body)
	}
	clock.Advance(ShortLivedLifetime)
	e := graphErr(t, do(t, http.MethodGet, me, nil), 190)
	if e["error_subcode"] != float64(subcodeExpired) || !strings.Contains(e["message"].(string), "Session has expired") {
		t.Fatalf("expired: %v", e)
	}
}

func TestGraphInstagramEndpoints(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	g := s.Endpoints().GraphBaseURL
	long := s.MintLongLivedToken("shop", nil, clock.Now())
	short := s.MintShortLivedToken("shop", nil)

	// Unversioned and versioned paths, Authorization header for /me.
	req, _ := http.NewRequest(http.MethodGet, g+"/me?fields=user_id", nil)
	req.Header.Set("Authorization", "Bearer "+long)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unversioned /me with a Bearer header: %d", resp.StatusCode)
	}
	graphErr(t, do(t, http.MethodGet, g+"/v25.0/me?fields=followers,id&access_token="+long, nil), 100)
	graphErr(t, do(t, http.MethodGet, g+"/latest/me?access_token="+long, nil), 100)

	e := graphErr(t, do(t, http.MethodPost, g+"/refresh_access_token", url.Values{"grant_type": {"ig_refresh_token"}, "access_token": {long}}), 100)
	if e["message"] != "Unsupported request - method type: post" || e["type"] != "IGApiException" {
		t.Fatalf("POST refresh: %v", e)
	}
	graphErr(t, do(t, http.MethodGet, g+"/refresh_access_token?access_token="+long, nil), 100)
	graphErr(t, do(t, http.MethodGet, g+"/refresh_access_token?grant_type=ig_refresh_token&access_token="+short, nil), 100)
	clock.Advance(MinRefreshAge)
	r := do(t, http.MethodGet, g+"/v25.0/refresh_access_token?grant_type=ig_refresh_token&access_token="+long, nil)
	if r.status != http.StatusOK || r.json["expires_in"] != float64(LongLivedLifetime/time.Second) {
		t.Fatalf("versioned refresh: %s", r.body)
	}
	graphErr(t, do(t, http.MethodGet, g+"/access_token?grant_type=ig_exchange_token&client_secret="+s.AppSecret()+"&access_token="+long, nil), 100)
	r = do(t, http.MethodGet, s.URL()+"/graph.instagram.com/nope/nope/nope", nil)
	if r.status != http.StatusNotFound || r.json["error"] == nil {
		t.Fatalf("unknown path: %d %s", r.status, r.body)
	}
}

func TestRefreshRotation(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	u := s.AddUser("shop")
	issued := clock.Now()
	old := s.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, issued)
	clock.Advance(10 * 24 * time.Hour)
	r := do(t, http.MethodGet, s.Endpoints().GraphBaseURL+"/refresh_access_token?grant_type=ig_refresh_token&access_token="+old, nil)
	tok, _ := r.json["access_token"].(string)
	if tok == "" || tok == old || s.CurrentToken("shop") != tok {
		t.Fatalf("refresh: %s", r.body)
	}
	newSt, _ := s.TokenInfo(tok)
	oldSt, _ := s.TokenInfo(old)
	if newSt.Kind != KindLongLived || !newSt.IssuedAt.Equal(clock.Now()) || !newSt.ExpiresAt.Equal(clock.Now().Add(LongLivedLifetime)) ||
		!oldSt.ExpiresAt.Equal(issued.Add(LongLivedLifetime)) || newSt.UserID != u.UserID || newSt.Scopes[0] != "instagram_business_basic" {
		t.Fatalf("new %+v old %+v", newSt, oldSt)
	}

	s.SetRotateOnRefresh(false)
	clock.Advance(MinRefreshAge)
	r = do(t, http.MethodGet, s.Endpoints().GraphBaseURL+"/refresh_access_token?grant_type=ig_refresh_token&access_token="+tok, nil)
	if r.json["access_token"] != tok {
		t.Fatalf("refresh without rotation: %s", r.body)
	}
}

func TestFailureInjection(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	tok := s.MintShortLivedToken("shop", nil)
	me := s.Endpoints().GraphBaseURL + "/v25.0/me?access_token=" + tok

	s.Fail(EndpointMe, 2, GraphError(2, 0, "OAuthException", "Service temporarily unavailable"))
	for range 2 {
		if r := do(t, http.MethodGet, me, nil); r.status != http.StatusInternalServerError || !strings.Contains(r.body, `"is_transient":true`) {
			t.Fatalf("injected: %d %s", r.status, r.body)
		}
	}
	if r := do(t, http.MethodGet, me, nil); r.status != http.StatusOK {
		t.Fatalf("after two failures: %d", r.status)
	}

	s.Fail(EndpointMe, -1, Throttled(17, 5))
	for range 3 {
		r := do(t, http.MethodGet, me, nil)
		graphErr(t, r, 17)
		if !strings.Contains(r.header.Get("X-Business-Use-Case-Usage"), `"estimated_time_to_regain_access":5`) || r.header.Get("X-App-Usage") == "" {
			t.Fatalf("usage headers: %v", r.header)
		}
	}
	s.ClearFailures()
	if r := do(t, http.MethodGet, me, nil); r.status != http.StatusOK {
		t.Fatalf("after ClearFailures: %d", r.status)
	}

	s.Fail(EndpointMe, 1, Failure{Oversize: true})
	if r := do(t, http.MethodGet, me, nil); r.status != http.StatusOK || len(r.body) < oversizeBytes {
		t.Fatalf("oversize: %d, %d bytes", r.status, len(r.body))
	}
	s.Fail(EndpointMe, 1, Failure{Malformed: true})
	if r := do(t, http.MethodGet, me, nil); r.status != http.StatusOK || json.Valid([]byte(r.body)) {
		t.Fatalf("malformed: %d %s", r.status, r.body)
	}
	if s.Calls(EndpointMe) != 9 {
		t.Fatalf("Calls(me) = %d", s.Calls(EndpointMe))
	}
}

func TestHangEndsWithTheClientOrTheServer(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.Fail(EndpointMe, -1, Failure{Hang: true})
	me := s.Endpoints().GraphBaseURL + "/me"

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, me, nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a hanging request returned")
	}

	// Under heavy load the first request can give up before it reaches the
	// server, so wait for this request's own call, not for a total of two
	// (which once waited forever), and never past a deadline.
	before := s.Calls(EndpointMe)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(me)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for s.Calls(EndpointMe) <= before {
		if time.Now().After(deadline) {
			t.Fatal("the second request never reached the fake")
		}
		time.Sleep(time.Millisecond)
	}
	s.Close() // must release the hanging handler, not wait for it
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a hanging request")
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoints().GraphBaseURL+"/me", nil)
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestFacebookWire(t *testing.T) {
	s, clock := newTestServer(t, Options{})
	u := s.AddUser("shop")
	fb := s.Endpoints().FacebookGraphBaseURL

	// Code exchange by GET, as documented, on the unversioned path too.
	code := s.MintFacebookCode("shop", []string{"instagram_basic"}, redirectURI)
	q := url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "redirect_uri": {redirectURI}, "code": {code}}
	r := do(t, http.MethodGet, fb+"/oauth/access_token?"+q.Encode(), nil)
	tok, _ := r.json["access_token"].(string)
	if r.status != http.StatusOK || !strings.HasPrefix(tok, "EAA") || r.json["expires_in"] != float64(FacebookUserLifetime/time.Second) {
		t.Fatalf("code exchange: %s", r.body)
	}
	e := graphErr(t, do(t, http.MethodGet, fb+"/v25.0/oauth/access_token?"+q.Encode(), nil), 100)
	if e["error_subcode"] != float64(36009) || e["message"] != "This authorization code has been used." {
		t.Fatalf("reused code: %v", e)
	}

	// Literal app token and debug_token.
	appTok := s.AppID() + "|" + s.AppSecret()
	r = do(t, http.MethodGet, fb+"/v25.0/debug_token?input_token="+tok+"&access_token="+url.QueryEscape(appTok), nil)
	data, _ := r.json["data"].(map[string]any)
	if data["is_valid"] != true || data["user_id"] != u.ID || data["type"] != "USER" ||
		data["expires_at"] != float64(clock.Now().Add(FacebookUserLifetime).Unix()) ||
		data["data_access_expires_at"] != float64(clock.Now().Add(DataAccessLifetime).Unix()) {
		t.Fatalf("debug_token: %s", r.body)
	}
	graphErr(t, do(t, http.MethodGet, fb+"/v25.0/debug_token?input_token="+tok+"&access_token=nope", nil), 190)

	// me/accounts paging by limit and cursor.
	s.AddPage(u.UserID, "Second")
	r = do(t, http.MethodGet, fb+"/v25.0/me/accounts?limit=1&fields=id,instagram_business_account&access_token="+tok, nil)
	next, _ := r.json["paging"].(map[string]any)["next"].(string)
	if list, _ := r.json["data"].([]any); len(list) != 1 || next == "" || !strings.Contains(r.body, `"instagram_business_account":{"id":"`+u.UserID+`"}`) {
		t.Fatalf("first page: %s", r.body)
	}
	r = do(t, http.MethodGet, next, nil)
	if list, _ := r.json["data"].([]any); len(list) != 1 || r.json["paging"].(map[string]any)["next"] != nil {
		t.Fatalf("second page: %s", r.body)
	}
	graphErr(t, do(t, http.MethodGet, fb+"/v25.0/me/accounts?fields=secrets&access_token="+tok, nil), 100)

	s.RevokeUser("shop")
	e = graphErr(t, do(t, http.MethodGet, fb+"/v25.0/me/accounts?access_token="+tok, nil), 190)
	if e["error_subcode"] != float64(subcodePasswordChanged) {
		t.Fatalf("revoked user: %v", e)
	}
}

func TestAdminAPI(t *testing.T) {
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

	if r := post("/_fake/users", `{"username":"shop"}`); r.status != 200 || r.json["user_id"] != "27640875392278831" || r.json["username"] != "shop" {
		t.Fatalf("users: %s", r.body)
	}
	r := post("/_fake/codes", `{"username":"shop","scopes":["instagram_business_basic"],"redirect_uri":"`+redirectURI+`"}`)
	code, _ := r.json["code"].(string)
	if code == "" {
		t.Fatalf("codes: %s", r.body)
	}
	form := url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code": {code}}
	if r := do(t, http.MethodPost, s.Endpoints().APIBaseURL+"/oauth/access_token", form); r.status != 200 {
		t.Fatalf("exchanging an admin code: %s", r.body)
	}

	r = post("/_fake/tokens", `{"username":"shop","kind":"long","issued_at":"2026-01-01T00:00:00Z"}`)
	long, _ := r.json["access_token"].(string)
	if !strings.HasPrefix(long, "IGAA") || r.json["expires_at"] != "2026-03-02T00:00:00Z" {
		t.Fatalf("tokens: %s", r.body)
	}
	if r := post("/_fake/tokens", `{"username":"shop","kind":"long","issued_at":1767225600}`); r.json["issued_at"] != "2026-01-01T00:00:00Z" {
		t.Fatalf("unix issued_at: %s", r.body)
	}
	if r := post("/_fake/tokens", `{"kind":"weird"}`); r.status != 400 {
		t.Fatalf("bad kind: %d", r.status)
	}
	if r := post("/_fake/tokens", `{"usernme":"typo"}`); r.status != 400 {
		t.Fatalf("unknown field: %d", r.status)
	}
	if r := post("/_fake/token-info", `{"access_token":"`+long+`"}`); r.json["kind"] != "long" || r.json["revoked"] != false {
		t.Fatalf("token-info: %s", r.body)
	}
	if r := post("/_fake/revoke", `{"access_token":"`+long+`"}`); r.status != 200 {
		t.Fatalf("revoke: %s", r.body)
	}
	if st, _ := s.TokenInfo(long); !st.Revoked {
		t.Fatal("revoke did not revoke")
	}
	if r := post("/_fake/current-token", `{"username":"shop"}`); r.json["access_token"] == "" {
		t.Fatalf("current-token: %s", r.body)
	}

	before := s.Now()
	if r := post("/_fake/clock", `{"advance":"25h"}`); r.status != 200 || !s.Now().Equal(before.Add(25*time.Hour)) {
		t.Fatalf("clock: %s", r.body)
	}
	if r := post("/_fake/fail", `{"endpoint":"me","n":1,"failure":{"status":503}}`); r.status != 200 {
		t.Fatalf("fail: %s", r.body)
	}
	if r := do(t, http.MethodGet, s.Endpoints().GraphBaseURL+"/me", nil); r.status != 503 {
		t.Fatalf("injected 503: %d", r.status)
	}
	resp, err := http.Get(s.URL() + "/_fake/calls")
	if err != nil {
		t.Fatal(err)
	}
	var calls struct {
		Calls         map[string]int `json:"calls"`
		MaxConcurrent int            `json:"max_concurrent"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&calls)
	resp.Body.Close()
	if calls.Calls[EndpointExchangeCode] != 1 || calls.Calls[EndpointMe] != 1 || calls.MaxConcurrent != 1 {
		t.Fatalf("calls: %+v", calls)
	}
}

// TestAppProblemAnswersEveryEndpoint: with an app-level problem set (in
// process or through the admin API), every endpoint but the login dialogs
// answers it, until it is cleared.
func TestAppProblemAnswersEveryEndpoint(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(s.URL()+"/_fake/app-problem", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := s.AddUser("shop")
	tok := s.MintLongLivedToken(u.UserID, nil, s.Now())
	me := s.Endpoints().GraphBaseURL + "/v25.0/me?access_token=" + tok
	if st := post(`{"app_problem":"deactivated"}`); st != 200 {
		t.Fatalf("admin app-problem: %d", st)
	}
	if e := graphErr(t, do(t, http.MethodGet, me, nil), 190); !strings.Contains(e["message"].(string), "Error validating application") {
		t.Fatalf("deactivated app: %v", e)
	}
	form := url.Values{"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code": {"x"}}
	if r := do(t, http.MethodPost, s.Endpoints().APIBaseURL+"/oauth/access_token", form); r.status != 400 || r.json["error_message"] != "Error validating application. Application has been deleted." {
		t.Fatalf("code exchange of a deactivated app: %s", r.body)
	}
	for kind, code := range map[graph.AppProblemKind]float64{graph.AppThrottled: 4, graph.AppBlocked: 368, graph.AppRestricted: 3, graph.AppDevelopmentMode: 200} {
		s.SetAppProblem(kind)
		e := graphErr(t, do(t, http.MethodGet, me, nil), int(code))
		gerr := &graph.Error{Code: int(code), Message: e["message"].(string)}
		if p, ok := graph.AppProblemOf(gerr); !ok || p.Kind != kind {
			t.Errorf("%s: the fake's answer %v is not recognised as %s", kind, e, kind)
		}
	}
	if st := post(`{"app_problem":"bankrupt"}`); st != 400 {
		t.Fatalf("unknown kind: %d", st)
	}
	if st := post(`{"app_problem":""}`); st != 200 {
		t.Fatalf("clearing: %d", st)
	}
	if r := do(t, http.MethodGet, me, nil); r.status != 200 {
		t.Fatalf("after clearing: %s", r.body)
	}
}

func TestUnstartedServer(t *testing.T) {
	s := NewUnstarted(Options{AppID: "7", AppSecret: "x"})
	defer s.Close()
	if s.URL() != "" || s.Handler() == nil || EndpointsFor("http://h:1").GraphBaseURL != "http://h:1/graph.instagram.com" {
		t.Fatal("unstarted server")
	}
}

// TestLastRequestIsWhatMetaSaw: the fake keeps each endpoint's last
// parameters (token and proof included), in process and through the admin
// API, so a test can check what the engine sent.
func TestLastRequestIsWhatMetaSaw(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	u := s.AddUser("shop")
	tok := s.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, s.Now())
	resp, err := http.Get(s.Endpoints().GraphBaseURL + "/v25.0/me?fields=id,username&access_token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.LastRequest(EndpointMe); got.Get("access_token") != tok || got.Get("fields") != "id,username" {
		t.Fatalf("last me request: fields %q, token kept: %v", got.Get("fields"), got.Get("access_token") == tok)
	}
	resp, err = http.Post(s.URL()+"/_fake/last-request", "application/json", strings.NewReader(`{"endpoint":"me"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Params map[string][]string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Params["fields"][0] != "id,username" {
		t.Fatalf("admin last-request: %d %v %v", resp.StatusCode, out, err)
	}
}
