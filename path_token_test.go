package instagram

import (
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func TestTokenRead(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")

	resp := e.mustOK(e.read("token/shop"))
	if resp.Data["access_token"] != e.meta.CurrentToken(u.UserID) {
		t.Fatal("token/ did not return the current token")
	}
	if resp.Data["token_type"] != "bearer" || resp.Data["user_id"] != u.UserID || resp.Data["username"] != "shop_user" {
		t.Fatalf("data = %v", redactedData(resp))
	}
	a := e.account("shop")
	if resp.Data["expires_at"] != a.ExpiresAt.Format(time.RFC3339) {
		t.Fatalf("expires_at = %v", resp.Data["expires_at"])
	}
	// The next refresh is 30 days away: ttl is capped by max_token_ttl.
	if resp.Data["ttl"] != int64(3600) {
		t.Fatalf("ttl = %v, want the default max_token_ttl", resp.Data["ttl"])
	}
	if resp.Data["rotation_period"] != int64((longLivedLifetime-defaultRefreshWindow)/time.Second) {
		t.Fatalf("rotation_period = %v", resp.Data["rotation_period"])
	}

	// With a cap beyond the next refresh, ttl runs to the next refresh.
	e.mustOK(e.write("config", map[string]any{"max_token_ttl": "2000h"}))
	resp = e.mustOK(e.read("token/shop"))
	wantTTL := int64(a.ExpiresAt.Add(-defaultRefreshWindow).Sub(e.clock.Now()) / time.Second)
	if resp.Data["ttl"] != wantTTL {
		t.Fatalf("ttl = %v, want %d", resp.Data["ttl"], wantTTL)
	}
}

func TestTokenTTL(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cfg := defaultConfig()
	cfg.MaxTokenTTL = 1000 * time.Hour
	cases := []struct {
		name string
		a    account
		want time.Duration
	}{
		{"until the next refresh", account{IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), Status: statusValid}, 30 * 24 * time.Hour},
		{"overdue: the floor", account{IssuedAt: now.Add(-40 * 24 * time.Hour), ExpiresAt: now.Add(20 * 24 * time.Hour), Status: statusValid}, minTokenTTL},
		{"retrying: until the retry", account{IssuedAt: now.Add(-40 * 24 * time.Hour), ExpiresAt: now.Add(20 * 24 * time.Hour), RetryAt: now.Add(10 * time.Minute), Status: statusRefreshFailing}, 10 * time.Minute},
		{"never past expiry", account{IssuedAt: now.Add(-59*24*time.Hour - 12*time.Hour), ExpiresAt: now.Add(12 * time.Hour), RetryAt: now.Add(48 * time.Hour), Status: statusRefreshFailing}, 12 * time.Hour},
		{"unknown expiry", account{RegisteredAt: now, Status: statusValid}, 24 * time.Hour},
	}
	for _, tc := range cases {
		if got := tokenTTL(&tc.a, cfg, now); got != tc.want {
			t.Errorf("%s: ttl = %v, want %v", tc.name, got, tc.want)
		}
	}
	cfg.MaxTokenTTL = time.Hour
	a := account{IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), Status: statusValid}
	if got := tokenTTL(&a, cfg, now); got != time.Hour {
		t.Errorf("cap: ttl = %v", got)
	}
}

func TestTokenTTLNeverBelowFloor(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	// Issued 40 days ago: already inside the refresh window, so due now.
	e.registerLongLived("due", "due_user", e.clock.Now().Add(-40*24*time.Hour))
	resp := e.mustOK(e.read("token/due"))
	if resp.Data["ttl"] != int64(minTokenTTL/time.Second) {
		t.Fatalf("ttl = %v, want the floor", resp.Data["ttl"])
	}
}

func TestTokenReadNeedsReauthIsAnError(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	e.meta.RevokeUser(u.UserID)
	e.tick()
	if a := e.account("shop"); a.Status != statusNeedsReauth {
		t.Fatalf("status = %s", a.Status)
	}
	resp, err := e.read("token/shop")
	if err == nil {
		t.Fatalf("want an error, got %v", redactedData(resp))
	}
	if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != http.StatusConflict {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenReadExpiredIsAnError(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("old", "old_user", e.clock.Now().Add(-50*24*time.Hour))
	e.meta.Fail("refresh", -1, graphtest.Failure{Status: 500, Body: "down"})
	e.clock.Advance(11 * 24 * time.Hour)
	resp, err := e.read("token/old")
	if err == nil {
		t.Fatalf("an expired token was served: %v", redactedData(resp))
	}
}

func TestTokenReadRejectsBadName(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	resp, err := e.read("token/.hidden")
	e.mustFail(resp, err, "name")
	resp, err = e.do(logical.ReadOperation, "token/shop", map[string]any{"verbose": true})
	e.mustFail(resp, err, "verbose")
}

// redactedData prints a response without its token.
func redactedData(resp *logical.Response) map[string]any {
	if resp == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range resp.Data {
		if k == "access_token" {
			v = "[redacted]"
		}
		out[k] = v
	}
	return out
}
