package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// page is the callback's raw HTTP answer.
type page struct {
	status      int
	contentType string
	body        string
}

// callback calls the callback path as Vault does for Meta's redirect: a
// read with the query parameters as data (or an update, for a POST form).
func (e *testEnv) callback(op logical.Operation, params url.Values) page {
	e.t.Helper()
	data := map[string]any{}
	for k, v := range params {
		if len(v) == 1 {
			data[k] = v[0]
		} else {
			data[k] = v
		}
	}
	resp, err := e.do(op, "callback", data)
	if err != nil {
		e.t.Fatalf("callback: %v", err)
	}
	if resp == nil || resp.IsError() {
		e.t.Fatalf("callback answered %#v, want a raw page", resp)
	}
	p := page{}
	var ok bool
	if p.status, ok = resp.Data[logical.HTTPStatusCode].(int); !ok {
		e.t.Fatalf("no status code in %v", resp.Data)
	}
	p.contentType, _ = resp.Data[logical.HTTPContentType].(string)
	body, _ := resp.Data[logical.HTTPRawBody].([]byte)
	p.body = string(body)
	if cc := resp.Data[logical.HTTPCacheControlHeader]; cc != "no-store" {
		e.t.Errorf("Cache-Control = %v, want no-store", cc)
	}
	for _, s := range e.secrets {
		if s != "" && strings.Contains(p.body, s) {
			e.t.Errorf("the callback page shows a secret (token, code, state or app secret)")
		}
	}
	return p
}

// expect checks a page's status, content type and that it says want.
func (p page) expect(t *testing.T, status int, want ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("status = %d, want %d; page:\n%s", p.status, status, p.body)
	}
	if p.contentType != "text/html; charset=utf-8" {
		t.Errorf("content type = %q", p.contentType)
	}
	if !strings.HasPrefix(p.body, "<!DOCTYPE html>") {
		t.Errorf("not a whole HTML page:\n%s", p.body)
	}
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page does not say %q:\n%s", w, p.body)
		}
	}
}

var grantedScopes = []string{"instagram_business_basic", "instagram_business_content_publish"}

// startAuthorization runs auth-url and the fake's login dialog for a new
// user, and returns the redirect's parameters.
func (e *testEnv) startAuthorization(account, username string) url.Values {
	e.t.Helper()
	e.meta.AddUser(username)
	// replace: re-authorizing a registered name is what several tests do.
	login, _ := e.authURL(map[string]any{"account": account, "scopes": strings.Join(grantedScopes, ","), "replace": true})
	return e.authorizeAtFake(login, url.Values{"fake_user": {username}})
}

// TestAuthURLWillNotRepointAnAccount: without replace, a link cannot be
// issued for a registered name, and a link issued before the name was
// registered cannot take it over at the callback.
func TestAuthURLWillNotRepointAnAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	resp, err := e.write("auth-url", map[string]any{"account": "shop"})
	e.mustFail(resp, err, "replace=true")

	// A link for a free name; the name is registered before the owner
	// comes back.
	e.meta.AddUser("late_user")
	login, _ := e.authURL(map[string]any{"account": "late"})
	back := e.authorizeAtFake(login, url.Values{"fake_user": {"late_user"}})
	e.secrets = append(e.secrets, back.Get("code"), back.Get("state"))
	e.registerFromCode("late", "first_user")
	taken := e.account("late")
	p := e.callback(logical.ReadOperation, back)
	p.expect(t, http.StatusConflict, "registered after this authorization link was issued")
	if got := e.account("late"); got.AccessToken != taken.AccessToken || got.Username != "first_user" {
		t.Fatal("a link without replace took over a registered name")
	}
	// Two registrations by hand; the refused callback exchanged nothing.
	if e.meta.Calls("exchange_code") != 2 {
		t.Fatalf("%d code exchanges: the refused callback must not exchange its code", e.meta.Calls("exchange_code"))
	}
	if after := e.storageSnapshot(); len(accountEntries(after)) != 2 {
		t.Fatalf("accounts stored: %d, want shop and late", len(accountEntries(after)))
	}
}

func TestCallbackRegistersAccount(t *testing.T) {
	for _, op := range []logical.Operation{logical.ReadOperation, logical.UpdateOperation} {
		t.Run(string(op), func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			back := e.startAuthorization("shop", "shop_user")
			u, _ := e.meta.User("shop_user")

			p := e.callback(op, back)
			p.expect(t, http.StatusOK, "connected", "@shop_user", "shop")
			tok := e.meta.CurrentToken(u.UserID)
			e.secrets = append(e.secrets, tok)
			if strings.Contains(p.body, tok) {
				t.Fatal("the page shows the token")
			}

			a := e.account("shop")
			if a == nil || a.AccessToken != tok || a.UserID != u.UserID || a.Status != statusValid {
				t.Fatalf("account = %+v", a)
			}
			if !reflect.DeepEqual(a.Scopes, grantedScopes) {
				t.Errorf("scopes = %v, want the granted %v", a.Scopes, grantedScopes)
			}
			resp := e.mustOK(e.read("token/shop"))
			if resp.Data["access_token"] != tok {
				t.Error("token/shop does not serve the registered token")
			}
			if n := len(e.listStates()); n != 0 {
				t.Errorf("%d states left after the callback used its own", n)
			}
		})
	}
}

func TestCallbackReplayedState(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	back := e.startAuthorization("shop", "shop_user")
	e.callback(logical.ReadOperation, back).expect(t, http.StatusOK)
	exchanges := e.meta.Calls(graphtest.EndpointExchangeCode)
	before := e.storageSnapshot()

	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "unknown or was already used", "no account was connected")
	if n := e.meta.Calls(graphtest.EndpointExchangeCode); n != exchanges {
		t.Errorf("a replayed state exchanged the code again (%d exchanges, want %d)", n, exchanges)
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a replayed callback changed storage")
	}
}

func TestCallbackForgedOrMissingState(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.meta.AddUser("victim")
	code := e.meta.MintCode(u.UserID, grantedScopes, testRedirectURI)
	e.secrets = append(e.secrets, code)
	e.authURL(map[string]any{"account": "shop"}) // a pending state exists, but not this one
	forged, _ := newStateValue()
	e.secrets = append(e.secrets, forged)
	before := e.storageSnapshot()

	for name, params := range map[string]url.Values{
		"forged":    {"code": {code}, "state": {forged}},
		"missing":   {"code": {code}},
		"too long":  {"code": {code}, "state": {strings.Repeat("A", maxStateLength+1)}},
		"the hash":  {"code": {code}, "state": {hashState(forged)}},
		"no params": {},
	} {
		t.Run(name, func(t *testing.T) {
			e.callback(logical.ReadOperation, params).expect(t, http.StatusBadRequest, "Authorization link not valid")
		})
	}
	if n := e.meta.Calls(graphtest.EndpointExchangeCode); n != 0 {
		t.Errorf("a forged state led to %d code exchanges", n)
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a forged callback changed storage")
	}
}

func TestCallbackExpiredState(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"state_ttl": "10m"})
	back := e.startAuthorization("shop", "shop_user")
	e.clock.Advance(10 * time.Minute)

	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "expired", "no account was connected")
	if n := e.meta.Calls(graphtest.EndpointExchangeCode); n != 0 {
		t.Errorf("an expired state led to %d code exchanges", n)
	}
	if e.account("shop") != nil {
		t.Error("an expired state registered the account")
	}
	// Used up by the refusal, like any other.
	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "unknown or was already used")
}

func TestExpiredStatesAreSwept(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.authURL(map[string]any{"account": "old"})
	e.clock.Advance(defaultStateTTL - time.Minute)
	_, fresh := e.authURL(map[string]any{"account": "new"})
	e.clock.Advance(time.Minute)

	e.tick()
	if got := e.listStates(); !reflect.DeepEqual(got, []string{hashState(fresh)}) {
		t.Fatalf("states after the sweep = %v, want only the unexpired one", got)
	}
	e.clock.Advance(defaultStateTTL)
	e.tick()
	if got := e.listStates(); len(got) != 0 {
		t.Fatalf("states after the second sweep = %v, want none", got)
	}
}

func TestCallbackUserDenied(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.meta.AddUser("shop_user")
	login, _ := e.authURL(map[string]any{"account": "shop"})
	back := e.authorizeAtFake(login, url.Values{"fake_deny": {"1"}})
	if back.Get("error") != "access_denied" || back.Get("code") != "" {
		t.Fatalf("the fake's denial redirect carries %v", back)
	}

	// The page says it in its own words (issue 22: the query's texts are
	// anyone's to write); it once repeated error_reason and
	// error_description.
	p := e.callback(logical.ReadOperation, back)
	p.expect(t, http.StatusBadRequest, "Authorization declined", "declined to grant the permissions")
	if strings.Contains(p.body, "The user denied your request.") {
		t.Error("the page repeats the query's error_description")
	}
	if e.account("shop") != nil || e.meta.Calls(graphtest.EndpointExchangeCode) != 0 {
		t.Error("a denied authorization registered an account")
	}
	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "unknown or was already used")
}

// TestCallbackRepeatsNoDenialText: the denial texts in the query, markup
// and all, reach the page in no form, escaped or raw (issue 22; the page
// once repeated them escaped and cut to maxReflectedLength).
func TestCallbackRepeatsNoDenialText(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	_, state := e.authURL(map[string]any{"account": "shop"})
	p := e.callback(logical.ReadOperation, url.Values{
		"state":             {state},
		"error":             {"access_denied"},
		"error_reason":      {`"><img src=x onerror=alert(1)>`},
		"error_description": {"Denied <script>alert(1)</script> " + strings.Repeat("x", 2*maxReflectedLength)},
	})
	p.expect(t, http.StatusBadRequest, "Authorization declined")
	for _, text := range []string{"<script>", "<img", "&lt;script&gt;", "&lt;img", "onerror", "Denied", "xxxxxxxx"} {
		if strings.Contains(p.body, text) {
			t.Errorf("the page carries the query's %s", text)
		}
	}
}

func TestCallbackExchangeRefused(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	old := e.registerFromCode("shop", "old_user") // a failed re-authorization must not lose it
	back := e.startAuthorization("shop", "new_user")
	// The code gets used elsewhere first (pasted into accounts/ by hand).
	e.mustOK(e.write("accounts/other", map[string]any{"code": back.Get("code")}))
	newUser, _ := e.meta.User("new_user")
	e.secrets = append(e.secrets, e.meta.CurrentToken(newUser.UserID))
	before := accountEntries(e.storageSnapshot())

	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "Instagram refused the authorization code")
	if after := accountEntries(e.storageSnapshot()); !reflect.DeepEqual(before, after) {
		t.Error("a refused exchange changed stored accounts")
	}
	if a := e.account("shop"); a == nil || a.UserID != old.UserID {
		t.Error("a refused exchange lost the stored account")
	}
	if !strings.Contains(e.logs.String(), "Instagram refused the code exchange") {
		t.Error("the refusal is not logged for the operator")
	}
}

// accountEntries is the accounts part of a storage snapshot.
func accountEntries(snap map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range snap {
		if strings.HasPrefix(k, accountStoragePrefix) {
			out[k] = v
		}
	}
	return out
}

func TestCallbackMetaUnavailable(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	back := e.startAuthorization("shop", "shop_user")
	e.meta.Fail(graphtest.EndpointExchangeCode, 1, graphtest.Failure{Status: http.StatusServiceUnavailable})
	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadGateway, "Instagram unavailable")
	if e.account("shop") != nil {
		t.Error("registered an account without a token")
	}
}

func TestCallbackRefusesUnexpectedParameters(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	back := e.startAuthorization("shop", "shop_user")

	extra := url.Values{"<b>x</b>": {"1"}}
	for k, v := range back {
		extra[k] = v
	}
	p := e.callback(logical.ReadOperation, extra)
	p.expect(t, http.StatusBadRequest, "unexpected or malformed parameters")
	if strings.Contains(p.body, "&lt;b&gt;x&lt;/b&gt;") || strings.Contains(p.body, "<b>x</b>") {
		t.Error("the page names the unknown parameter, which the caller chose (issue 22)")
	}
	twice := url.Values{"code": {back.Get("code"), back.Get("code")}, "state": back["state"]}
	e.callback(logical.ReadOperation, twice).expect(t, http.StatusBadRequest, "Parameters: code")

	// Neither used the state up: the real redirect still completes.
	e.callback(logical.ReadOperation, back).expect(t, http.StatusOK, "@shop_user")
}

func TestCallbackWithoutConfig(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	back := e.startAuthorization("shop", "shop_user")
	e.mustOK(e.do(logical.DeleteOperation, "config", nil))
	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "no Meta app configured")
}

// TestOperationIDsAreUnique checks the OpenAPI document Vault builds from
// the paths: client generators need one operationId per operation.
func TestOperationIDsAreUnique(t *testing.T) {
	conf := logical.TestBackendConfig()
	conf.System = &logical.StaticSystemView{PluginEnvironment: &logical.PluginEnvironment{VaultVersion: "1.21.3"}}
	b := newBackend(backendOptions{})
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.HelpOperation, Storage: &logical.InmemStorage{}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(resp.Data["openapi"])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for path, item := range doc.Paths {
		for method, op := range item {
			var o struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(op, &o) != nil || o.OperationID == "" {
				continue
			}
			if prev, dup := seen[o.OperationID]; dup {
				t.Errorf("operationId %s on both %s and %s %s", o.OperationID, prev, method, path)
			}
			seen[o.OperationID] = method + " " + path
		}
	}
	for _, p := range []string{"/callback", "/deauthorize", "/data-deletion", "/data-deletion/{confirmation_code}"} {
		if string(doc.Paths[p]["x-vault-unauthenticated"]) != "true" {
			t.Errorf("%s is not marked unauthenticated in OpenAPI", p)
		}
	}
}
