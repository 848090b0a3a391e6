//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// The Graph API through the engine (docs/proxy.md) on a real Vault: Vault's
// own policy decides which account and which Graph paths a token reaches,
// the token never comes back, and Meta's answers are mapped as the engine
// maps them everywhere else.

// registerWith registers name from a long-lived token with the scopes
// given, not due for refresh, and returns the fake's user and the token.
func (e *env) registerWith(name string, scopes ...string) (graphtest.User, string) {
	e.t.Helper()
	u := e.addUser(name + "_owner")
	issued := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	token := e.mintLongLived(u, issued, scopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
		"access_token": token,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register %s: %v", name, err)
	}
	return u, token
}

// clientWithPolicy writes policy as name and returns a client whose token
// has only it.
func (e *env) clientWithPolicy(name, policy string) *api.Client {
	e.t.Helper()
	if err := e.root.Sys().PutPolicy(name, policy); err != nil {
		e.fatalf("vault policy write %s: %v", name, err)
	}
	created, err := e.root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{name}, NoDefaultPolicy: true, TTL: "15m"})
	if err != nil {
		e.fatalf("token create: %v", err)
	}
	return e.client(created.Auth.ClientToken)
}

// rawProxy sends method to /v1/<path>?query with c's token and returns the
// status, the Retry-After header and the whole body.
func (e *env) rawProxy(c *api.Client, method, path, query string) (int, string, string) {
	e.t.Helper()
	return e.rawVia(http.DefaultClient, c, method, path, query)
}

// rawStatusNotFollowed is the status Vault answers a GET of path with c's
// token, a redirect not followed.
func (e *env) rawStatusNotFollowed(c *api.Client, path string) int {
	e.t.Helper()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, _, _ := e.rawVia(noRedirects, c, http.MethodGet, path, "")
	return status
}

// rawVia is rawProxy through hc.
func (e *env) rawVia(hc *http.Client, c *api.Client, method, path, query string) (int, string, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.addr+"/v1/"+path+"?"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", c.Token())
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

func TestProxyByPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shop, token := e.registerWith("shop", "instagram_business_basic")
	e.registerWith("other", "instagram_business_basic")
	e.fake.AddMedia(shop.UserID, "first post")
	app := e.clientWithPolicy("shop-media", `path "instagram/proxy/shop/me/media" { capabilities = ["read"] }`)

	sec, err := app.Logical().ReadWithData(mountPath+"/proxy/shop/me/media", map[string][]string{"fields": {"id,caption"}})
	if err != nil || sec == nil {
		e.fatalf("read through the proxy: %v", err)
	}
	data, _ := sec.Data["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["caption"] != "first post" {
		t.Fatalf("answer = %v", sec.Data)
	}
	seen := e.fake.LastContentRequest(graphtest.EndpointMedia)
	if seen.Get("access_token") != token || seen.Get("appsecret_proof") != graph.AppSecretProof(e.appSecret, token) || seen.Get("fields") != "id,caption" {
		t.Fatalf("Meta saw fields %q and not the account's token and proof", seen.Get("fields"))
	}

	// Everything else the policy does not name is Vault's own 403.
	for _, path := range []string{"proxy/other/me/media", "token/shop", "proxy/shop/me", "proxy/shop/me/media_publish", "accounts/shop"} {
		status, _, body := e.rawProxy(app, http.MethodGet, mountPath+"/"+path, "")
		if status != http.StatusForbidden {
			t.Errorf("GET %s: %d %s; want 403", path, status, body)
		}
	}
	if status, _, _ := e.rawProxy(app, http.MethodPost, mountPath+"/proxy/shop/me/media", "image_url=x"); status != http.StatusForbidden {
		t.Errorf("a read-only policy could POST: %d", status)
	}

	// Traversal and a caller's token are refused before any call, even
	// for the root token, which every path allows.
	calls := e.fake.AllCalls()
	for _, q := range []struct{ path, query string }{
		{"proxy/shop/me/%2e%2e/%2e%2e/token/shop", ""},
		{"proxy/shop/%252e%252e/token", ""},
		{"proxy/shop/me", "access_token=" + url.QueryEscape("EAAforeign")},
		{"proxy/shop/me", "method=delete"},
		{"proxy/shop/me", "ids=1,2"},
	} {
		status, _, body := e.rawProxy(e.root, http.MethodGet, mountPath+"/"+q.path, q.query)
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("GET %s?%s: %d %s; want a refusal", q.path, q.query, status, body)
		}
		if strings.Contains(body, token) {
			t.Errorf("GET %s: the answer holds the token", q.path)
		}
	}

	// A raw ".." never reaches the engine: Vault's HTTP server answers a
	// path that is not clean with a redirect to the cleaned one, and there
	// policy decides again. The application's token gets no further than
	// its policy lets it.
	for _, raw := range []string{"proxy/shop/me/../../token/shop", "proxy/shop/../../token/shop", "proxy/shop/me/../../other/me/media"} {
		if status := e.rawStatusNotFollowed(app, mountPath+"/"+raw); status < 300 || status > 399 {
			t.Errorf("GET %s: %d; want Vault's redirect to the cleaned path", raw, status)
		}
		status, _, body := e.rawProxy(app, http.MethodGet, mountPath+"/"+raw, "")
		if status != http.StatusForbidden {
			t.Errorf("GET %s, the redirect followed: %d %s; want 403", raw, status, body)
		}
		if strings.Contains(body, token) {
			t.Errorf("GET %s: the answer holds the token", raw)
		}
	}
	if after := e.fake.AllCalls(); !equalCalls(calls, after) {
		t.Fatalf("Meta was called by refused requests: %v -> %v", calls, after)
	}
}

func equalCalls(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestProxyPublishesWithTheShippedPublisherPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.registerWith("demo", "instagram_business_basic", "instagram_business_content_publish")
	policy := strings.ReplaceAll(policyFile(t, "instagram-proxy-publisher"), "<ig-user-id>", u.UserID)
	app := e.clientWithPolicy("publisher", policy)

	made, err := app.Logical().Write(mountPath+"/proxy/demo/"+u.UserID+"/media", map[string]any{"image_url": "https://example.com/launch.jpg", "caption": "Launch day"})
	if err != nil || made == nil || made.Data["id"] == nil {
		e.fatalf("create a container: %v %v", made, err)
	}
	if _, err := app.Logical().Write(mountPath+"/proxy/demo/"+u.UserID+"/media_publish", map[string]any{"creation_id": made.Data["id"]}); err != nil {
		e.fatalf("publish: %v", err)
	}
	if m := e.fake.MediaOf(u.UserID); len(m) != 1 || m[0].Caption != "Launch day" {
		t.Fatalf("media at Meta = %+v", m)
	}
	if _, err := app.Logical().Read(mountPath + "/token/demo"); err == nil {
		t.Fatal("the publisher read the token")
	}
}

func TestProxyPagingErrorsAndBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, token := e.registerWith("shop", "instagram_business_basic")
	for i := 0; i < 3; i++ {
		e.fake.AddMedia(u.UserID, "post")
	}

	// Paging: the next link is a proxy path, and works as one.
	status, _, body := e.rawProxy(e.root, http.MethodGet, mountPath+"/proxy/shop/me/media", "fields=id&limit=2")
	if status != http.StatusOK || strings.Contains(body, token) {
		t.Fatalf("first page: %d %s", status, body)
	}
	var page struct {
		Data struct {
			Data   []any
			Paging struct{ Next string }
		}
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(page.Data.Paging.Next, "?")
	if len(page.Data.Data) != 2 || !strings.HasPrefix(path, mountPath+"/proxy/shop/") {
		t.Fatalf("first page = %s", body)
	}
	status, _, body = e.rawProxy(e.root, http.MethodGet, path, query)
	if status != http.StatusOK || !strings.Contains(body, `"data":[{`) || strings.Contains(body, token) {
		t.Fatalf("the rewritten next link: %d %s", status, body)
	}

	// The size bound: refused, not passed on in part.
	big := e.fake.AddMedia(u.UserID, strings.Repeat("x", 2<<20))
	status, _, body = e.rawProxy(e.root, http.MethodGet, mountPath+"/proxy/shop/me/media", "fields=caption&limit=1")
	if status != http.StatusBadGateway || strings.Contains(body, "xxxx") {
		t.Fatalf("oversize answer (%s): %d %.200s", big, status, body)
	}

	// Throttling: the app-level problem pauses every call, and the proxy
	// answers 429 with the wait in its body, and as Retry-After once the
	// mount lets the header through (Vault drops a plugin's response
	// headers that the mount's allowed_response_headers does not name).
	allowed := []string{"Retry-After"}
	if err := e.root.Sys().TuneMountAllowNil(mountPath, api.TuneMountConfigInput{AllowedResponseHeaders: &allowed}); err != nil {
		e.fatalf("tune allowed_response_headers: %v", err)
	}
	e.fake.SetAppProblem(graph.AppThrottled)
	e.rawProxy(e.root, http.MethodGet, mountPath+"/proxy/shop/me", "")
	e.fake.SetAppProblem("")
	calls := e.fake.AllCalls()
	status, retry, body := e.rawProxy(e.root, http.MethodGet, mountPath+"/proxy/shop/me", "")
	if status != http.StatusTooManyRequests || retry == "" || !strings.Contains(body, `"retry_after":`+retry) {
		t.Fatalf("while paused: %d Retry-After %q %s", status, retry, body)
	}
	if !equalCalls(calls, e.fake.AllCalls()) {
		t.Fatal("Meta was called while the app was paused")
	}
}

func TestProxyRefusedTokenMarksNeedsReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.registerWith("shop", "instagram_business_basic")
	e.fake.Revoke(token)
	status, _, body := e.rawProxy(e.root, http.MethodGet, mountPath+"/proxy/shop/me", "fields=id")
	if status != http.StatusBadRequest || !strings.Contains(body, `"code":190`) || strings.Contains(body, token) {
		t.Fatalf("proxy with a revoked token: %d %s", status, body)
	}
	sec, err := e.root.Logical().Read(mountPath + "/accounts/shop")
	if err != nil || sec.Data["status"] != "needs_reauth" {
		t.Fatalf("account after Meta's 190: %v %v", sec, err)
	}
	if _, err := e.root.Logical().Read(mountPath + "/token/shop"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("token read: %v", err)
	}
}
