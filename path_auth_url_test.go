package instagram

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// authURL writes auth-url and returns the login URL and its state (added to
// the values that must never be logged).
func (e *testEnv) authURL(data map[string]any) (*url.URL, string) {
	e.t.Helper()
	resp := e.mustOK(e.write("auth-url", data))
	state, _ := resp.Data["state"].(string)
	if state == "" {
		e.t.Fatalf("auth-url answered no state")
	}
	e.secrets = append(e.secrets, state)
	u, err := url.Parse(resp.Data["url"].(string))
	if err != nil {
		e.t.Fatal(err)
	}
	return u, state
}

// authorizeAtFake plays the account owner's browser at the fake's login
// dialog: it opens the URL's parameters there (plus extra, such as
// fake_user or fake_deny) and returns the parameters of the redirect back
// to the engine. Any code in them is registered as a secret.
func (e *testEnv) authorizeAtFake(login *url.URL, extra url.Values) url.Values {
	e.t.Helper()
	q := login.Query()
	for k, v := range extra {
		q[k] = v
	}
	loc := e.redirectFrom(e.meta.Endpoints().AuthBaseURL + "/oauth/authorize?" + q.Encode())
	if loc.Fragment != "_" {
		e.t.Errorf("the redirect's fragment is %q, want Meta's _", loc.Fragment)
	}
	loc.Fragment = ""
	if got := loc.String(); !strings.HasPrefix(got, q.Get("redirect_uri")+"?") {
		e.t.Errorf("redirected to %s, not to the redirect_uri", got)
	}
	back := loc.Query()
	if c := back.Get("code"); c != "" {
		e.secrets = append(e.secrets, c)
	}
	return back
}

// redirectFrom opens a login dialog of the fake as a browser would, without
// following its answer, and returns where it redirects.
func (e *testEnv) redirectFrom(dialog string) *url.URL {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(dialog)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("the login dialog answered %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

func TestAuthURL(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop"}))
	state := resp.Data["state"].(string)
	e.secrets = append(e.secrets, state)

	u, err := url.Parse(resp.Data["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.meta.Endpoints().AuthBaseURL + "/oauth/authorize"; u.Scheme+"://"+u.Host+u.Path != want {
		t.Errorf("url = %s, want %s?...", u, want)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id":     testAppID,
		"redirect_uri":  testRedirectURI,
		"response_type": "code",
		"scope":         "instagram_business_basic",
		"state":         state,
	} {
		if q.Get(k) != want {
			t.Errorf("url %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if got, want := resp.Data["expires_at"], e.clock.Now().Add(15*time.Minute).Format(time.RFC3339); got != want {
		t.Errorf("expires_at = %v, want %s (the 15-minute default)", got, want)
	}
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(raw)*8 < 128 {
		t.Errorf("state carries %d random bits, want at least 128", len(raw)*8)
	}

	// Stored under its hash, and nowhere as itself.
	snap := e.storageSnapshot()
	if _, ok := snap[stateStoragePrefix+hashState(state)]; !ok {
		t.Errorf("no state stored under its hash; storage keys: %v", keysOf(snap))
	}
	for k, v := range snap {
		if strings.Contains(k, state) || strings.Contains(v, state) {
			t.Errorf("storage entry %s holds the state itself", k)
		}
	}

	// Every call gets its own state.
	_, other := e.authURL(map[string]any{"account": "shop"})
	if other == state {
		t.Error("two auth-url calls returned the same state")
	}
}

func TestAuthURLOptions(t *testing.T) {
	e := newTestEnv(t)
	const alt = "https://vault-alt.example.com/v1/instagram/callback"
	e.configure(map[string]any{"allowed_redirect_uris": alt, "state_ttl": "1h"})
	u, _ := e.authURL(map[string]any{
		"account":      "shop",
		"scopes":       "instagram_business_basic, instagram_business_manage_comments",
		"redirect_uri": alt,
		"force_reauth": true,
	})
	q := u.Query()
	if q.Get("redirect_uri") != alt {
		t.Errorf("redirect_uri = %q, want the allowed alternative", q.Get("redirect_uri"))
	}
	if q.Get("scope") != "instagram_business_basic,instagram_business_manage_comments" {
		t.Errorf("scope = %q", q.Get("scope"))
	}
	if q.Get("force_reauth") != "true" {
		t.Errorf("force_reauth = %q", q.Get("force_reauth"))
	}
	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop", "redirect_uri": testRedirectURI}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	if got, want := resp.Data["expires_at"], e.clock.Now().Add(time.Hour).Format(time.RFC3339); got != want {
		t.Errorf("expires_at = %v, want %s (config state_ttl)", got, want)
	}
}

func TestAuthURLBadInput(t *testing.T) {
	cases := []struct {
		name   string
		config map[string]any
		data   map[string]any
		field  string
	}{
		{"redirect_uri not allowed", nil, map[string]any{"account": "shop", "redirect_uri": "https://evil.example/callback"}, "redirect_uri"},
		{"redirect_uri differs by a slash", nil, map[string]any{"account": "shop", "redirect_uri": testRedirectURI + "/"}, "redirect_uri"},
		{"no redirect_uri anywhere", map[string]any{"redirect_uri": ""}, map[string]any{"account": "shop"}, "redirect_uri"},
		{"account missing", nil, map[string]any{}, "account"},
		{"account with a slash", nil, map[string]any{"account": "a/b"}, "account"},
		{"account with a space", nil, map[string]any{"account": "my shop"}, "account"},
		{"account too long", nil, map[string]any{"account": strings.Repeat("a", maxNameLength+1)}, "account"},
		{"bad scope", nil, map[string]any{"account": "shop", "scopes": "instagram_business_basic,<b>"}, "scopes"},
		{"unknown field", nil, map[string]any{"account": "shop", "acount": "x"}, "acount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(tc.config)
			before := e.storageSnapshot()
			resp, err := e.write("auth-url", tc.data)
			e.mustFail(resp, err, tc.field+":")
			assertStatus(t, resp, err, http.StatusBadRequest)
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Error("a refused auth-url changed storage")
			}
		})
	}
}

func TestAuthURLNotConfigured(t *testing.T) {
	e := newTestEnv(t)
	resp, err := e.write("auth-url", map[string]any{"account": "shop"})
	e.mustFail(resp, err, "not configured")
	assertStatus(t, resp, err, http.StatusBadRequest)
}

// assertStatus checks the HTTP status Vault would answer for resp, err.
func assertStatus(t *testing.T, resp *logical.Response, err error, want int) {
	t.Helper()
	if code, _ := logical.RespondErrorCommon(&logical.Request{Operation: logical.UpdateOperation}, resp, err); code != want {
		t.Errorf("status = %d, want %d", code, want)
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// listStates is what storage holds of pending states.
func (e *testEnv) listStates() []string {
	e.t.Helper()
	keys, err := e.storage.List(context.Background(), stateStoragePrefix)
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}
