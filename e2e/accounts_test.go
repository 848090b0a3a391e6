//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// Instagram's long-lived tokens live 60 days.
const longLivedTTL = 60 * 24 * time.Hour

var basicScopes = []string{"instagram_business_basic"}

func TestRegisterFromCodeAndReadToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser("shop_owner")
	code := e.mintCode(u, basicScopes...)

	registered := time.Now()
	if _, err := e.root.Logical().Write(mountPath+"/accounts/shop", map[string]any{"code": code}); err != nil {
		e.fatalf("register shop from a code: %v", err)
	}

	tok := e.readToken(e.root, "shop")
	if want := e.currentToken(u); tok.accessToken != want {
		t.Errorf("token/shop access_token is not the fake's current token for %s", u.Username)
	}
	// The code was exchanged for a short-lived token and that for a
	// long-lived one, issued now: it expires about 60 days out.
	assertNear(t, "token/shop expires_at", tok.expiresAt, registered.Add(longLivedTTL), 5*time.Minute)
	if tok.ttl <= 0 {
		t.Errorf("token/shop ttl = %d, want > 0", tok.ttl)
	}
	if tok.username != u.Username {
		t.Errorf("token/shop username = %q, want %q", tok.username, u.Username)
	}
	if tok.userID != u.UserID && tok.userID != u.ID {
		t.Errorf("token/shop user_id = %q, want the fake's %q (or app-scoped %q)", tok.userID, u.UserID, u.ID)
	}

	acct := e.readAccount(e.root, "shop")
	if acct["username"] != u.Username || acct["status"] != "valid" {
		t.Errorf("accounts/shop = %v, want username %q and status valid", acct, u.Username)
	}
	for _, f := range []string{"user_id", "expires_at", "issued_at", "next_refresh_at"} {
		if s, _ := acct[f].(string); s == "" {
			t.Errorf("accounts/shop has no %s: %v", f, acct)
		}
	}
}

func TestRegisterFromLongLivedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser("brand_owner")

	// A token issued ten days ago: not due for refresh (30-day window), so
	// the engine keeps exactly this token.
	issuedAt := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	expiresAt := issuedAt.Add(longLivedTTL)
	token := e.mintLongLived(u, issuedAt, basicScopes...)

	for _, tc := range []struct {
		name, expiresAt string
	}{
		{"brand", expiresAt.UTC().Format(time.RFC3339)},
		{"brand-unix", strconv.FormatInt(expiresAt.Unix(), 10)},
	} {
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+tc.name, map[string]any{
			"access_token": token,
			"expires_at":   tc.expiresAt,
		}); err != nil {
			e.fatalf("register %s from a long-lived token with expires_at=%s: %v", tc.name, tc.expiresAt, err)
		}

		tok := e.readToken(e.root, tc.name)
		if tok.accessToken != token {
			t.Errorf("token/%s access_token is not the long-lived token it was registered with", tc.name)
		}
		assertNear(t, "token/"+tc.name+" expires_at", tok.expiresAt, expiresAt, time.Second)
		if tok.ttl <= 0 {
			t.Errorf("token/%s ttl = %d, want > 0", tc.name, tok.ttl)
		}

		acct := e.readAccount(e.root, tc.name)
		// issued_at = expires_at - 60 days, per the contract.
		assertNear(t, "accounts/"+tc.name+" issued_at", parseTime(t, acct["issued_at"]), issuedAt, time.Second)
		if acct["status"] != "valid" {
			t.Errorf("accounts/%s status = %v, want valid", tc.name, acct["status"])
		}
	}
}

func TestListAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"shop", "brand"} {
		u := e.addUser(name + "_owner")
		token := e.mintLongLived(u, time.Now().Add(-48*time.Hour), basicScopes...)
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{"access_token": token}); err != nil {
			e.fatalf("register %s: %v", name, err)
		}
	}
	if got := e.listAccounts(); !slices.Equal(got, []string{"brand", "shop"}) {
		t.Fatalf("accounts/ = %v, want [brand shop]", got)
	}

	if _, err := e.root.Logical().Delete(mountPath + "/accounts/shop"); err != nil {
		e.fatalf("delete accounts/shop: %v", err)
	}
	if got := e.listAccounts(); !slices.Equal(got, []string{"brand"}) {
		t.Errorf("accounts/ after deleting shop = %v, want [brand]", got)
	}
	if s, err := e.root.Logical().Read(mountPath + "/accounts/shop"); err != nil || s != nil {
		t.Errorf("accounts/shop after delete: %v, %v; want 404 (nil, nil)", s, err)
	}
	// A deleted account has no token to serve: 404 or a clear error, never data.
	s, err := e.root.Logical().Read(mountPath + "/token/shop")
	if err == nil && s != nil && s.Data["access_token"] != nil {
		t.Error("token/shop still serves a token after the account was deleted")
	}
	if err != nil && vaultproc.StatusOf(err) >= 500 {
		t.Errorf("token/shop after delete: %v, want 404 or 400", err)
	}
	// Through Vault's HTTP API, every per-account path of a deleted account
	// answers 404 saying so (the plugin's coded error crosses gRPC intact),
	// and a second delete is still a success. (Vault wraps every error a
	// backend returns in a multierror: "1 error occurred: * ...".)
	want := `account \"shop\" is not registered`
	for _, p := range []string{"token/shop", "accounts/shop", "accounts/shop/pages"} {
		if status, body := e.rawRead(e.root, mountPath+"/"+p); status != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("%s after delete: %d %s; want 404 saying %s", p, status, body, want)
		}
	}
	_, err = e.root.Logical().Write(mountPath+"/accounts/shop/refresh", nil)
	if vaultproc.StatusOf(err) != http.StatusNotFound || !strings.Contains(fmt.Sprint(err), `account "shop" is not registered`) {
		t.Errorf("accounts/shop/refresh after delete: %v; want 404 saying the account is not registered", err)
	}
	if _, err := e.root.Logical().Delete(mountPath + "/accounts/shop"); err != nil {
		t.Errorf("second delete of accounts/shop: %v, want success", err)
	}
	// The other account is untouched.
	e.readToken(e.root, "brand")
}

func TestBadInputIsA400NamingTheFieldAndKeepsTheAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser("shop_owner")
	code := e.mintCode(u, basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/shop", map[string]any{"code": code}); err != nil {
		e.fatalf("register shop: %v", err)
	}
	before := e.readToken(e.root, "shop")

	other := e.addUser("other_owner")
	otherToken := e.mintLongLived(other, time.Now().Add(-48*time.Hour), basicScopes...)

	for _, tc := range []struct {
		name  string
		path  string
		data  map[string]any
		names []string // what the error must mention
	}{
		{"both code and access_token", "accounts/shop",
			map[string]any{"code": e.mintCode(other, basicScopes...), "access_token": otherToken},
			[]string{"code", "access_token"}},
		{"neither code nor access_token", "accounts/shop",
			map[string]any{},
			[]string{"code", "access_token"}},
		{"a used code", "accounts/shop",
			map[string]any{"code": code},
			[]string{"code"}},
		{"an unknown field", "accounts/shop",
			map[string]any{"access_token": otherToken, "colour": "blue"},
			[]string{"colour"}},
		// Not containing "name", so only naming the field satisfies the check.
		{"a bad name", "accounts/bad!acct",
			map[string]any{"access_token": otherToken},
			[]string{"name"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			_, err := e.root.Logical().Write(mountPath+"/"+tc.path, tc.data)
			if vaultproc.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("write %s with %s: err = %v, want a 400", tc.path, tc.name, err)
			}
			msg := vaultproc.ErrorText(err)
			for _, n := range tc.names {
				if !strings.Contains(msg, n) {
					t.Errorf("the 400 for %s does not name %q: %s", tc.name, n, msg)
				}
			}
		})
	}

	after := e.readToken(e.root, "shop")
	if after.accessToken != before.accessToken || !after.expiresAt.Equal(before.expiresAt) {
		t.Error("token/shop changed after rejected writes")
	}
	if acct := e.readAccount(e.root, "shop"); acct["status"] != "valid" || acct["username"] != u.Username {
		t.Errorf("accounts/shop after rejected writes = %v", acct)
	}
	if got := e.listAccounts(); !slices.Equal(got, []string{"shop"}) {
		t.Errorf("accounts/ after rejected writes = %v, want [shop]", got)
	}
}

// --- reading responses ---

type tokenResponse struct {
	accessToken string
	expiresAt   time.Time
	ttl         int64
	userID      string
	username    string
}

// readToken reads token/<name>, fails the test unless it is a usable token,
// and records the token as a secret.
func (e *env) readToken(c *api.Client, name string) tokenResponse {
	e.t.Helper()
	s, err := c.Logical().Read(mountPath + "/token/" + name)
	if err != nil {
		e.fatalf("read token/%s: %v", name, err)
	}
	if s == nil || s.Data == nil {
		e.fatalf("read token/%s: no data", name)
	}
	d := s.Data
	tok := tokenResponse{
		accessToken: fmt.Sprint(d["access_token"]),
		expiresAt:   optTime(e.t, d["expires_at"]),
		ttl:         toInt64(e.t, d["ttl"]),
		userID:      fmt.Sprint(d["user_id"]),
		username:    fmt.Sprint(d["username"]),
	}
	if d["access_token"] == nil || tok.accessToken == "" {
		e.t.Fatalf("token/%s has no access_token", name)
	}
	e.secrets.Add("token read from token/"+name, tok.accessToken)
	return tok
}

// readAccount reads accounts/<name> and checks that the whole response never
// carries a token, a code or the app secret.
func (e *env) readAccount(c *api.Client, name string) map[string]any {
	e.t.Helper()
	status, body := e.rawRead(c, mountPath+"/accounts/"+name)
	if status != http.StatusOK {
		e.fatalf("read accounts/%s: HTTP %d: %s", name, status, body)
	}
	for value, label := range e.secrets.Snapshot() {
		if strings.Contains(body, value) {
			e.t.Errorf("accounts/%s response contains the %s", name, label)
		}
	}
	if strings.Contains(body, `"access_token"`) {
		e.t.Errorf("accounts/%s response has an access_token field", name)
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		e.t.Fatalf("accounts/%s: %v", name, err)
	}
	return out.Data
}

func (e *env) listAccounts() []string {
	e.t.Helper()
	s, err := e.root.Logical().List(mountPath + "/accounts/")
	if err != nil {
		e.fatalf("list accounts/: %v", err)
	}
	if s == nil {
		return nil // Vault answers 404 to a list with no keys
	}
	return sortedStrings(s.Data["keys"])
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %v is not RFC 3339: %v", v, err)
	}
	return tm
}

// optTime is parseTime for fields that are empty while unknown (the expiry of
// a long-lived token registered without expires_at).
func optTime(t *testing.T, v any) time.Time {
	t.Helper()
	if s, _ := v.(string); s == "" {
		return time.Time{}
	}
	return parseTime(t, v)
}

func toInt64(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return int64(math.Round(f))
		}
	case float64:
		return int64(math.Round(x))
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n
		}
		if d, err := time.ParseDuration(x); err == nil {
			return int64(d / time.Second)
		}
	}
	t.Fatalf("%v (%T) is not a number of seconds", v, v)
	return 0
}

func assertNear(t *testing.T, what string, got, want time.Time, tolerance time.Duration) {
	t.Helper()
	if d := got.Sub(want); d > tolerance || d < -tolerance {
		t.Errorf("%s = %s, want %s ± %s", what, got.Format(time.RFC3339), want.Format(time.RFC3339), tolerance)
	}
}
