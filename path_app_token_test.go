package instagram

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func TestAppTokenIsCached(t *testing.T) {
	e := newFacebookEnv(t)
	resp := e.mustOK(e.read("app-token"))
	tok, _ := resp.Data["access_token"].(string)
	e.secrets = append(e.secrets, tok)
	if !strings.HasPrefix(tok, testAppID+"|") || resp.Data["token_type"] != "bearer" {
		t.Fatalf("app-token = %v", redactedData(resp))
	}
	if info, ok := e.meta.TokenInfo(tok); !ok || info.Kind != graphtest.KindApp {
		t.Fatalf("not an app token of the fake: %+v", info)
	}
	// Facebook's app tokens carry no expiry.
	if resp.Data["expires_at"] != "" {
		t.Fatalf("expires_at = %v", resp.Data["expires_at"])
	}

	// Served from memory: a second read, and a config write that keeps
	// the credentials, make no call.
	e.mustOK(e.write("config", map[string]any{"refresh_window": "600h"}))
	resp = e.mustOK(e.read("app-token"))
	if resp.Data["access_token"] != tok {
		t.Fatal("the second read did not serve the cached token")
	}
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 1 {
		t.Fatalf("client-credentials grant called %d times for two reads, want 1", got)
	}

	// Without an expiry it is kept for a bounded time, then renewed.
	e.clock.Advance(appTokenUnknownExpiryTTL - time.Second)
	e.mustOK(e.read("app-token"))
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 1 {
		t.Fatalf("renewed before the hour was out (%d calls)", got)
	}
	e.clock.Advance(time.Second)
	resp = e.mustOK(e.read("app-token"))
	e.secrets = append(e.secrets, resp.Data["access_token"].(string))
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 2 || resp.Data["access_token"] == tok {
		t.Fatalf("not renewed after an hour (%d calls)", got)
	}
}

func TestAppTokenWithExpiry(t *testing.T) {
	e := newFacebookEnv(t)
	e.meta.Fail(graphtest.EndpointAppToken, 2, graphtest.Failure{Status: 200, Body: `{"access_token":"1234567890|expiring-app-token","token_type":"bearer","expires_in":7200}`})
	e.secrets = append(e.secrets, "1234567890|expiring-app-token")
	resp := e.mustOK(e.read("app-token"))
	if want := e.clock.Now().Add(2 * time.Hour).Format(time.RFC3339); resp.Data["expires_at"] != want {
		t.Fatalf("expires_at = %v, want %s", resp.Data["expires_at"], want)
	}
	// Kept until 5 minutes before its expiry.
	e.clock.Advance(2*time.Hour - appTokenRenewBefore - time.Second)
	e.mustOK(e.read("app-token"))
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 1 {
		t.Fatalf("%d calls before the renewal time, want 1", got)
	}
	e.clock.Advance(time.Second)
	e.mustOK(e.read("app-token"))
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 2 {
		t.Fatalf("%d calls after the renewal time, want 2", got)
	}
}

func TestAppTokenFailures(t *testing.T) {
	e := newTestEnv(t)
	resp, err := e.read("app-token")
	e.mustFail(resp, err, "not configured")

	e.configure(map[string]any{"login": "facebook"})
	e.meta.Fail(graphtest.EndpointAppToken, 1, graphtest.Failure{Status: 503})
	resp, err = e.read("app-token")
	if got := httpStatus(resp, err); got != http.StatusBadGateway {
		t.Fatalf("Meta down: status %d, want 502", got)
	}
	// A refusal is not cached either; the next read obtains a token.
	e.meta.Fail(graphtest.EndpointAppToken, 1, graphtest.Failure{Status: 400, Body: `{"error":{"message":"Error validating client secret.","type":"OAuthException","code":101}}`})
	resp, err = e.read("app-token")
	e.mustFail(resp, err, "app_id:")
	resp = e.mustOK(e.read("app-token"))
	e.secrets = append(e.secrets, resp.Data["access_token"].(string))
	if got := e.meta.Calls(graphtest.EndpointAppToken); got != 3 {
		t.Fatalf("%d grant calls, want 3", got)
	}
}
