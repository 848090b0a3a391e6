package graph_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

// Meta removes legacy request features from Graph API v26 to v28 (and from
// every version for new apps from v27's release): HTTP method override,
// field aliases, multi-ID requests, asynchronous batch requests, JSONP and
// the date-format parameters. The engine calls Meta only through
// graph.Client, so a token's whole life through the client, recorded
// request by request, says whether the engine needs any of them.

// sentRequest is one request as the client put it on the wire.
type sentRequest struct {
	method string
	url    *url.URL
	form   url.Values // a POST form body; nil otherwise
	header http.Header
}

// params are the request's query and form parameters together.
func (r sentRequest) params() url.Values {
	p := url.Values{}
	for _, vs := range []url.Values{r.url.Query(), r.form} {
		for k, v := range vs {
			p[k] = append(p[k], v...)
		}
	}
	return p
}

// wireRecorder records every request that goes through it, then sends it on.
type wireRecorder struct {
	mu   sync.Mutex
	sent []sentRequest
	next http.RoundTripper
}

func (rec *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	s := sentRequest{method: r.Method, url: r.URL, header: r.Header.Clone()}
	if r.Body != nil && r.Method == http.MethodPost {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if s.form, err = url.ParseQuery(string(body)); err != nil {
			s.form = url.Values{"unparsed body": {string(body)}}
		}
	}
	rec.mu.Lock()
	rec.sent = append(rec.sent, s)
	rec.mu.Unlock()
	return rec.next.RoundTrip(r)
}

// endpointsSeen is a graph.Observer noting each endpoint called.
type endpointsSeen struct {
	mu   sync.Mutex
	seen map[graph.Endpoint]bool
}

func (o *endpointsSeen) Request(ep graph.Endpoint, _ time.Duration, _ int) {
	o.mu.Lock()
	o.seen[ep] = true
	o.mu.Unlock()
}
func (o *endpointsSeen) Usage(string, string, float64) {}
func (o *endpointsSeen) AppProblem(graph.AppProblem)   {}

// legacyFeatures names the legacy features r uses; none for a clean one.
func legacyFeatures(r sentRequest) []string {
	var found []string
	if r.method != http.MethodGet && r.method != http.MethodPost {
		found = append(found, "HTTP method "+r.method)
	}
	for _, h := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
		if r.header.Get(h) != "" {
			found = append(found, "method override header "+h)
		}
	}
	p := r.params()
	for param, feature := range map[string]string{
		"method":          "method override parameter",
		"ids":             "multi-ID request",
		"callback":        "JSONP",
		"jsonp":           "JSONP",
		"date_format":     "date-format parameter",
		"batch":           "batch request",
		"asynchronous":    "asynchronous batch request",
		"include_headers": "batch request option",
	} {
		if p.Has(param) {
			found = append(found, feature+" ("+param+"=)")
		}
	}
	for _, f := range p["fields"] {
		if strings.Contains(f, ".as(") {
			found = append(found, "field alias in fields="+f)
		}
	}
	if path := r.url.Path; strings.Contains(path, ",") || strings.Contains(path, "async_batch") {
		found = append(found, "multi-ID or asynchronous batch path "+path)
	}
	return found
}

// TestNoLegacyRequestFeatures runs a token's whole life through the client
// against the fake, under every login (dialogs, code exchanges, long-lived
// exchanges, /me, a refresh, debug_token, the Pages, an app token), records
// every request, and finds none of the features Meta is removing. Every
// endpoint the client knows must be in the run, so a new one joins it.
func TestNoLegacyRequestFeatures(t *testing.T) {
	clock := testclock.New(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	fake := graphtest.New(graphtest.Options{Now: clock.Now})
	t.Cleanup(fake.Close)
	rec := &wireRecorder{next: http.DefaultTransport}
	seen := &endpointsSeen{seen: map[graph.Endpoint]bool{}}
	c := graph.New(graph.Config{
		AppID: fake.AppID(), AppSecret: fake.AppSecret(), Endpoints: fake.Endpoints(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: rec},
		Observer:   seen,
	})
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The dialogs are the engine's URLs too, though a browser opens them.
	var dialogs []string

	// Instagram Login.
	u := fake.AddUser("shop")
	igScopes := []string{"instagram_business_basic"}
	on := true
	dialogs = append(dialogs, c.AuthorizeURL(redirectURI, igScopes, "st", graph.DialogOptions{ForceReauth: true, EnableFBLogin: &on}))
	short, err := c.ExchangeCode(ctx, fake.MintCode(u.UserID, igScopes, redirectURI), redirectURI)
	must("exchange code", err)
	long, err := c.ExchangeForLongLived(ctx, short.AccessToken)
	must("exchange for long-lived", err)
	_, err = c.Me(ctx, long.AccessToken)
	must("me", err)
	clock.Advance(25 * time.Hour)
	_, err = c.Refresh(ctx, long.AccessToken)
	must("refresh", err)

	// Facebook Login, and Facebook Login for Business's dialog.
	fu := fake.AddUser("brand")
	if _, ok := fake.AddPage(fu.UserID, "Brand Page"); !ok {
		t.Fatal("the fake did not add a Page")
	}
	dialogs = append(dialogs, c.FacebookAuthorizeURL(redirectURI, fbScopes, "st", ""), c.FacebookAuthorizeURL(redirectURI, nil, "st", "871000000000001"))
	user, err := c.FacebookExchangeCode(ctx, fake.MintFacebookCode(fu.UserID, fbScopes, redirectURI), redirectURI)
	must("facebook exchange code", err)
	fbLong, err := c.FacebookExchangeLongLived(ctx, user.AccessToken)
	must("facebook exchange long-lived", err)
	_, err = c.DebugToken(ctx, fbLong.AccessToken)
	must("debug_token", err)
	_, err = c.Pages(ctx, fbLong.AccessToken)
	must("pages", err)
	_, err = c.AppToken(ctx)
	must("app token", err)

	// Threads.
	tu := fake.AddUser("threads_shop")
	thScopes := []string{graph.ThreadsScopeBasic}
	dialogs = append(dialogs, c.ThreadsAuthorizeURL(redirectURI, thScopes, "st"))
	thShort, err := c.ThreadsExchangeCode(ctx, fake.MintThreadsCode(tu.UserID, thScopes, redirectURI), redirectURI)
	must("threads exchange code", err)
	thLong, err := c.ThreadsExchangeForLongLived(ctx, thShort.AccessToken)
	must("threads exchange for long-lived", err)
	_, err = c.ThreadsMe(ctx, thLong.AccessToken)
	must("threads me", err)
	clock.Advance(25 * time.Hour)
	_, err = c.ThreadsRefresh(ctx, thLong.AccessToken)
	must("threads refresh", err)

	for _, ep := range graph.AllEndpoints() {
		if !seen.seen[ep] {
			t.Errorf("endpoint %s is not in the lifecycle: add its call above", ep)
		}
	}
	sent := slices.Clone(rec.sent)
	if len(sent) < len(graph.AllEndpoints()) {
		t.Fatalf("recorded %d requests, fewer than the %d endpoints", len(sent), len(graph.AllEndpoints()))
	}
	for _, d := range dialogs {
		du, err := url.Parse(d)
		must("dialog URL", err)
		sent = append(sent, sentRequest{method: http.MethodGet, url: du, header: http.Header{}})
	}
	for _, r := range sent {
		if found := legacyFeatures(r); len(found) > 0 {
			t.Errorf("%s %s uses %s", r.method, r.url.Path, strings.Join(found, ", "))
		}
	}
}

// TestLegacyFeaturesAreFound: the check above finds each feature, so that
// its silence means something.
func TestLegacyFeaturesAreFound(t *testing.T) {
	req := func(method, raw string, form url.Values, header http.Header) sentRequest {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if header == nil {
			header = http.Header{}
		}
		return sentRequest{method: method, url: u, form: form, header: header}
	}
	for name, r := range map[string]sentRequest{
		"method override parameter": req("GET", "https://graph.facebook.com/v25.0/me?method=delete", nil, nil),
		"method override header":    req("POST", "https://graph.facebook.com/v25.0/me", nil, http.Header{"X-Http-Method-Override": {"DELETE"}}),
		"other HTTP method":         req("DELETE", "https://graph.facebook.com/v25.0/123", nil, nil),
		"multi-ID":                  req("GET", "https://graph.facebook.com/v25.0/?ids=1,2", nil, nil),
		"multi-ID path":             req("GET", "https://graph.facebook.com/v25.0/1,2", nil, nil),
		"field alias":               req("GET", "https://graph.instagram.com/v25.0/me?fields=id,username.as(name)", nil, nil),
		"JSONP":                     req("GET", "https://graph.instagram.com/me?callback=cb", nil, nil),
		"date format":               req("GET", "https://graph.facebook.com/v25.0/debug_token?date_format=U", nil, nil),
		"batch in a form":           req("POST", "https://graph.facebook.com/v25.0/", url.Values{"batch": {"[]"}}, nil),
		"asynchronous batch":        req("POST", "https://graph.facebook.com/v25.0/123/async_batch", url.Values{}, nil),
	} {
		if len(legacyFeatures(r)) == 0 {
			t.Errorf("%s: not found in %s %s", name, r.method, r.url)
		}
	}
	if found := legacyFeatures(req("GET", "https://graph.instagram.com/v25.0/me?fields=id,username&access_token=x", nil, nil)); len(found) > 0 {
		t.Errorf("a plain /me call flagged: %v", found)
	}
}
