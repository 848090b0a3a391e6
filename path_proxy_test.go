package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// rawAnswer is a proxied call's raw error answer: its status, its
// Retry-After and the body Vault sends as it is.
type rawAnswer struct {
	status     int
	retryAfter string
	RetryAfter int64          `json:"retry_after"`
	Errors     []string       `json:"errors"`
	GraphError map[string]any `json:"graph_error"`
}

func (e *testEnv) proxyRefusal(resp *logical.Response, err error) rawAnswer {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("proxy: %v", err)
	}
	if resp == nil || resp.Data[logical.HTTPStatusCode] == nil {
		e.t.Fatalf("want a raw error answer, got %#v", resp)
	}
	var a rawAnswer
	if err := json.Unmarshal(resp.Data[logical.HTTPRawBody].([]byte), &a); err != nil {
		e.t.Fatal(err)
	}
	a.status = resp.Data[logical.HTTPStatusCode].(int)
	if v := resp.Headers["Retry-After"]; len(v) > 0 {
		a.retryAfter = v[0]
	}
	body := string(resp.Data[logical.HTTPRawBody].([]byte))
	for _, s := range e.secrets {
		if s != "" && strings.Contains(body, s) {
			e.t.Fatalf("refusal holds a secret: %s", body)
		}
	}
	return a
}

// assertNoSecretIn fails when any secret the test knows appears in the
// answer's JSON.
func (e *testEnv) assertNoSecretIn(resp *logical.Response) {
	e.t.Helper()
	out, _ := json.Marshal(resp.Data)
	for _, s := range e.secrets {
		if s != "" && strings.Contains(string(out), s) {
			e.t.Fatalf("answer holds a secret: %s", out)
		}
	}
}

func TestProxyReadsGraphWithTheAccountsTokenAndRewritesPaging(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	for i := 0; i < 3; i++ {
		e.meta.AddMedia(u.UserID, "post")
	}
	resp := e.mustOK(e.do(logical.ReadOperation, "proxy/shop/me/media", map[string]any{"fields": "id,caption", "limit": "2"}))
	data, _ := resp.Data["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("data = %v", resp.Data)
	}
	next, _ := resp.Data["paging"].(map[string]any)["next"].(string)
	if !strings.HasPrefix(next, "proxy/shop/me/media?") || !strings.Contains(next, "after=") {
		t.Fatalf("paging.next = %q; want a proxy path", next)
	}
	e.assertNoSecretIn(resp)
	// What Meta saw: the account's token, its proof and the caller's fields.
	seen := e.meta.LastContentRequest(graphtest.EndpointMedia)
	tok := e.meta.CurrentToken(u.UserID)
	if seen.Get("access_token") != tok || seen.Get("appsecret_proof") != graph.AppSecretProof(testAppSecret, tok) || seen.Get("fields") != "id,caption" {
		t.Fatalf("Meta saw fields %q and a wrong token or proof", seen.Get("fields"))
	}
	// The rewritten link is itself a working proxy call.
	path, query, _ := strings.Cut(next, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{}
	for k := range q {
		params[k] = q.Get(k)
	}
	resp = e.mustOK(e.do(logical.ReadOperation, path, params))
	if data, _ := resp.Data["data"].([]any); len(data) != 1 {
		t.Fatalf("second page = %v", resp.Data)
	}
}

func TestProxyPublishesAMediaContainerThroughUpdate(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	resp := e.mustOK(e.write("proxy/shop/"+u.UserID+"/media", map[string]any{"image_url": "https://example.com/a.jpg", "caption": "hello"}))
	container, _ := resp.Data["id"].(string)
	if container == "" {
		t.Fatalf("container = %v", resp.Data)
	}
	resp = e.mustOK(e.write("proxy/shop/"+u.UserID+"/media_publish", map[string]any{"creation_id": container}))
	if resp.Data["id"] == "" {
		t.Fatalf("publish = %v", resp.Data)
	}
	if m := e.meta.MediaOf(u.UserID); len(m) != 1 || m[0].Caption != "hello" {
		t.Fatalf("media at Meta = %+v", m)
	}
}

func TestProxyRefusesTraversalHostsAndCallerTokensWithoutCallingMeta(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	before := e.meta.AllCalls()
	for _, path := range []string{"../token/shop", "me/../../token/shop", "%2e%2e/token", "https:/evil.example/me", "evil.example/me", "v25.0/me", "me/./media"} {
		resp, err := e.read("proxy/shop/" + path)
		if err != nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), "graph_path") {
			t.Errorf("%s: %v %v; want a 400 naming graph_path", path, resp, err)
		}
	}
	for _, p := range []string{"access_token", "appsecret_proof", "method", "ids", "batch", "callback"} {
		resp, err := e.do(logical.ReadOperation, "proxy/shop/me", map[string]any{p: "x"})
		if err != nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), p) {
			t.Errorf("%s: %v %v; want a 400 naming it", p, resp, err)
		}
	}
	if after := e.meta.AllCalls(); !sameCalls(before, after) {
		t.Fatalf("Meta was called: before %v, after %v", before, after)
	}
}

func sameCalls(a, b map[string]int) bool {
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

func TestProxyMetasRefusalMarksTheAccountNeedsReauth(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.meta.Revoke(e.meta.CurrentToken(u.UserID))
	ans := e.proxyRefusal(e.read("proxy/shop/me/media"))
	if ans.status != http.StatusBadRequest || ans.GraphError["code"] != float64(190) {
		t.Fatalf("answer = %+v; want Meta's 400 with code 190", ans)
	}
	if a := e.account("shop"); a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "authorize again") {
		t.Fatalf("account: status %q, last_error %q", a.Status, a.LastError)
	}
	// From now on the proxy answers what token/<name> answers, and calls nothing.
	before := e.meta.Calls(graphtest.EndpointMedia)
	_, tokErr := e.read("token/shop")
	_, proxyErr := e.read("proxy/shop/me/media")
	if tokErr == nil || proxyErr == nil || tokErr.Error() != proxyErr.Error() {
		t.Fatalf("token read: %v; proxy: %v; want the same error", tokErr, proxyErr)
	}
	if e.meta.Calls(graphtest.EndpointMedia) != before {
		t.Fatal("the proxy called Meta for an account that needs re-authorization")
	}
}

func TestProxyAnswers429WhileTheAppIsPaused(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.meta.SetAppProblem(graph.AppThrottled)
	first := e.proxyRefusal(e.read("proxy/shop/me"))
	if first.status < 400 {
		t.Fatalf("first answer = %+v", first)
	}
	e.meta.SetAppProblem("")
	calls := e.meta.AllCalls()
	ans := e.proxyRefusal(e.read("proxy/shop/me"))
	if ans.status != http.StatusTooManyRequests || ans.retryAfter == "" || ans.retryAfter == "0" || ans.retryAfter != strconv.FormatInt(ans.RetryAfter, 10) {
		t.Fatalf("answer while paused = %+v", ans)
	}
	if !sameCalls(calls, e.meta.AllCalls()) {
		t.Fatal("Meta was called while the app is paused")
	}
	if a := e.account("shop"); a.Status != statusValid {
		t.Fatalf("an app-level problem changed the account: %q", a.Status)
	}
}

func TestProxyRefusesAnswersPastTheBound(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.meta.AddMedia(u.UserID, strings.Repeat("x", 2<<20))
	ans := e.proxyRefusal(e.do(logical.ReadOperation, "proxy/shop/me/media", map[string]any{"fields": "caption"}))
	if ans.status != http.StatusBadGateway || !strings.Contains(ans.Errors[0], "larger") {
		t.Fatalf("answer = %+v", ans)
	}
}

func TestProxyUsesTheFacebookPageTokenOnFacebooksGraphHost(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"login": "facebook"})
	u := e.registerFacebook("fb", "fb_user", true)
	e.meta.AddMedia(u.UserID, "page post")
	resp := e.mustOK(e.do(logical.ReadOperation, "proxy/fb/"+u.UserID+"/media", map[string]any{"fields": "caption"}))
	if data, _ := resp.Data["data"].([]any); len(data) != 1 {
		t.Fatalf("data = %v", resp.Data)
	}
	e.assertNoSecretIn(resp)
}

func TestProxyMetricsCountFamiliesNotIDs(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.mustOK(e.do(logical.ReadOperation, "proxy/shop/"+u.UserID+"/media", nil))
	e.mustOK(e.do(logical.ReadOperation, "proxy/shop/"+u.UserID+"/insights", map[string]any{"metric": "reach"}))
	text := e.metricsHold(
		`vault_instagram_proxy_requests_total{family="{id}/media",outcome="2xx"} 1`,
		`vault_instagram_proxy_requests_total{family="{id}/insights",outcome="2xx"} 1`,
	)
	if strings.Contains(text, u.UserID) || strings.Contains(text, `"shop"`) {
		t.Error("metrics name an id or the account")
	}
}

func TestProxyRefusesGraphAnswersWithVaultsRawResponseKeys(t *testing.T) {
	for _, body := range []string{`{"http_status_code":200,"http_raw_body":"<script>","http_content_type":"text/html"}`, `{"http_content_type":"text/html"}`} {
		if _, err := decodeGraphAnswer([]byte(body)); err == nil {
			t.Errorf("%s was accepted as response data", body)
		}
	}
	if got, err := decodeGraphAnswer([]byte(`{"id":"27640875392278831"}`)); err != nil || got["id"] != "27640875392278831" {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := decodeGraphAnswer([]byte(`true`)); err != nil || got["value"] != true {
		t.Fatalf("got %v, %v", got, err)
	}
}

// TestProxyPassesGraphParametersOnAndRefusesOnlyDangerousOnes: unlike every
// other path, proxy/ takes parameters it does not declare, since they are
// Graph's; an undeclared one reaches Graph (which answers for it), while
// one that would widen the call is a 400 naming it, before Meta is called.
func TestProxyPassesGraphParametersOnAndRefusesOnlyDangerousOnes(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	// Graph itself refuses a field /me does not have: proof the parameter
	// got there.
	ans := e.proxyRefusal(e.do(logical.ReadOperation, "proxy/shop/me", map[string]any{"fields": "no_such_field", "zz_graph_param": "1"}))
	if ans.status != http.StatusBadRequest || ans.GraphError["code"] != float64(100) {
		t.Fatalf("answer = %+v; want Graph's own 400 for the field", ans)
	}
	calls := e.meta.AllCalls()
	resp, err := e.do(logical.ReadOperation, "proxy/shop/me", map[string]any{"zz_graph_param": "1", "Access_Token": "x"})
	if err != nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), "Access_Token") {
		t.Fatalf("%v %v; want a 400 naming Access_Token", resp, err)
	}
	if !sameCalls(calls, e.meta.AllCalls()) {
		t.Fatal("Meta was called")
	}
}

// TestProxySessionEndedLandsInTheSameNeedsReauth: a password change (190/460)
// met through the proxy lands the account in needs_reauth with the words
// every other step uses for it.
func TestProxySessionEndedLandsInTheSameNeedsReauth(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.meta.RevokeUser(u.UserID)
	ans := e.proxyRefusal(e.read("proxy/shop/me"))
	if ans.GraphError["error_subcode"] != float64(460) {
		t.Fatalf("answer = %+v", ans)
	}
	if a := e.account("shop"); a.Status != statusNeedsReauth || !strings.HasSuffix(a.LastError, sessionEndedReason) {
		t.Fatalf("status %q, last_error %q; want the session-ended wording", a.Status, a.LastError)
	}
}

// TestProxyCallsPerAccountAreOnTheAccountsMetrics: each account's calls
// through the proxy (and their time) are on metrics/accounts, which names
// accounts on purpose, never on metrics.
func TestProxyCallsPerAccountAreOnTheAccountsMetrics(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.registerFromCode("cafe", "cafe_user")
	for range 3 {
		e.mustOK(e.read("proxy/shop/me"))
	}
	e.mustOK(e.read("proxy/cafe/me"))
	text := e.scrapeAt("metrics/accounts", nil).body
	for _, want := range []string{
		`vault_instagram_account_proxy_requests_total{account="shop"} 3`,
		`vault_instagram_account_proxy_requests_total{account="cafe"} 1`,
		`vault_instagram_account_proxy_request_seconds_total{account="shop"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics/accounts lacks %s", want)
		}
	}
	if plain := e.scrapeAt("metrics", nil).body; strings.Contains(plain, "account_proxy") {
		t.Error("the metrics path has per-account proxy series")
	}
}

// TestProxyReadFastPath: a proxied read answers what the framework's route
// answers without asking Vault for the replication state (a gRPC call back
// to Vault in an external plugin); a proxied write goes through the
// framework.
func TestProxyReadFastPath(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	sys := &countingSystemView{SystemView: logical.TestSystemView()}
	conf := logical.TestBackendConfig()
	conf.System = sys
	conf.StorageView = e.storage
	b := newBackend(backendOptions{clock: e.clock})
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	req := func() *logical.Request {
		return &logical.Request{Operation: logical.ReadOperation, Path: "proxy/shop/me", Data: map[string]any{"fields": "id,username"}, Storage: e.storage}
	}
	fast, err := b.HandleRequest(context.Background(), req())
	if err != nil || fast.IsError() {
		t.Fatalf("%v %v", fast, err)
	}
	if n := sys.calls.Load(); n != 0 {
		t.Fatalf("the proxied read asked Vault for the replication state %d times", n)
	}
	routed, err := b.Backend.HandleRequest(context.Background(), req())
	if err != nil {
		t.Fatal(err)
	}
	if sys.calls.Load() == 0 {
		t.Fatal("the framework's route did not ask: this test no longer measures anything")
	}
	if !reflect.DeepEqual(fast.Data, routed.Data) {
		t.Fatalf("fast path %v differs from the framework's %v", fast.Data, routed.Data)
	}
	before := sys.calls.Load()
	if _, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: "proxy/shop/me", Storage: e.storage}); err != nil {
		t.Fatal(err)
	}
	if sys.calls.Load() == before {
		t.Fatal("a proxied write skipped the framework")
	}
}

// TestProxyRefusesAnAnswerEchoingTheTokenOrItsProof: the last check before
// an answer leaves the engine. Whatever key Graph puts it under, an answer
// holding the account's token (as it is or query-escaped), the proof the
// call sent or the app secret is a 502 that holds none of them.
func TestProxyRefusesAnAnswerEchoingTheTokenOrItsProof(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	tok := e.meta.CurrentToken(u.UserID)
	proof := graph.AppSecretProof(testAppSecret, tok)
	e.secrets = append(e.secrets, tok, proof)
	for name, echo := range map[string]string{
		"token":             tok,
		"token in a link":   "https://example.com/x?t=" + url.QueryEscape(tok),
		"appsecret_proof":   proof,
		"app secret itself": testAppSecret,
	} {
		body, _ := json.Marshal(map[string]any{"id": u.UserID, "debug": map[string]any{"echo": echo}})
		e.meta.Fail(graphtest.EndpointMe, 1, graphtest.Failure{Status: http.StatusOK, Body: string(body)})
		ans := e.proxyRefusal(e.do(logical.ReadOperation, "proxy/shop/me", map[string]any{"fields": "id"}))
		if ans.status != http.StatusBadGateway || !strings.Contains(ans.Errors[0], "refused") {
			t.Errorf("%s echoed: answer %+v; want a 502 refusal", name, ans)
		}
	}
	// An answer holding none of them passes.
	e.assertNoSecretIn(e.mustOK(e.do(logical.ReadOperation, "proxy/shop/me", map[string]any{"fields": "id"})))
}
