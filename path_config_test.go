package instagram

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestConfigWriteRead(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"scopes": "instagram_business_basic, instagram_business_manage_messages", "refresh_window": "240h"})

	resp := e.mustOK(e.read("config"))
	if resp.Data["app_id"] != testAppID {
		t.Errorf("app_id = %v", resp.Data["app_id"])
	}
	if resp.Data["app_secret_set"] != true {
		t.Errorf("app_secret_set = %v", resp.Data["app_secret_set"])
	}
	if _, ok := resp.Data["app_secret"]; ok {
		t.Error("config read returned app_secret")
	}
	for k, v := range resp.Data {
		if s, ok := v.(string); ok && strings.Contains(s, testAppSecret) {
			t.Errorf("field %s carries the secret", k)
		}
	}
	if resp.Data["login"] != "instagram" {
		t.Errorf("login = %v", resp.Data["login"])
	}
	if got := resp.Data["scopes"]; !reflect.DeepEqual(got, []string{"instagram_business_basic", "instagram_business_manage_messages"}) {
		t.Errorf("scopes = %v", got)
	}
	if got := resp.Data["refresh_window"]; got != int64(240*3600) {
		t.Errorf("refresh_window = %v", got)
	}
	if got := resp.Data["request_timeout"]; got != int64(10) {
		t.Errorf("request_timeout default = %v", got)
	}
	if got := resp.Data["graph_api_version"]; got != "v25.0" {
		t.Errorf("graph_api_version default = %v", got)
	}
}

func TestConfigUpdateKeepsUnsetFields(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.mustOK(e.write("config", map[string]any{"request_timeout": 20}))
	resp := e.mustOK(e.read("config"))
	if resp.Data["app_id"] != testAppID || resp.Data["app_secret_set"] != true || resp.Data["redirect_uri"] != testRedirectURI {
		t.Fatalf("update lost fields: %v", resp.Data)
	}
	if resp.Data["request_timeout"] != int64(20) {
		t.Fatalf("request_timeout = %v", resp.Data["request_timeout"])
	}
}

func TestConfigReadWhenUnset(t *testing.T) {
	e := newTestEnv(t)
	resp, err := e.read("config")
	if err != nil || resp != nil {
		t.Fatalf("read of missing config = %v, %v", resp, err)
	}
}

func TestConfigBadInput(t *testing.T) {
	cases := []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"unknown field", map[string]any{"app_idd": "1"}, "app_idd"},
		{"bad login", map[string]any{"login": "myspace"}, "login"},
		{"refresh_window too long", map[string]any{"refresh_window": "1416h"}, "refresh_window"},
		{"refresh_window negative", map[string]any{"refresh_window": -5}, "refresh_window"},
		{"refresh_window not a duration", map[string]any{"refresh_window": "soon"}, "refresh_window"},
		{"request_timeout zero", map[string]any{"request_timeout": 0}, "request_timeout"},
		{"relative redirect", map[string]any{"redirect_uri": "/v1/instagram/callback"}, "redirect_uri"},
		{"bad base url", map[string]any{"graph_base_url": "ftp://graph.example"}, "graph_base_url"},
		{"base url with credentials", map[string]any{"api_base_url": "https://user:pw@api.example"}, "api_base_url"},
		{"bad version", map[string]any{"graph_api_version": "25"}, "graph_api_version"},
		{"bad scope", map[string]any{"scopes": "instagram_business_basic,<script>"}, "scopes"},
		{"max_token_ttl below the floor", map[string]any{"max_token_ttl": 5}, "max_token_ttl"},
		{"concurrency zero", map[string]any{"refresh_concurrency": 0}, "refresh_concurrency"},
		{"concurrency not a number", map[string]any{"refresh_concurrency": "many"}, "refresh_concurrency"},
		{"app_id with slash", map[string]any{"app_id": "12/34"}, "app_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			e.assertConfigRefused(t, tc.data, tc.field)
		})
	}
}

// assertConfigRefused writes data to config and checks the write is a 400
// naming field that leaves storage exactly as it was.
func (e *testEnv) assertConfigRefused(t *testing.T, data map[string]any, field string) {
	t.Helper()
	before := e.storageSnapshot()
	resp, err := e.write("config", data)
	e.mustFail(resp, err, field) // as "field:" or, from the framework's type check, as "field \"field\""
	assertStatus(t, resp, err, http.StatusBadRequest)
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a rejected config write changed storage")
	}
}

func TestConfigFirstWriteNeedsCredentials(t *testing.T) {
	e := newTestEnv(t)
	resp, err := e.write("config", map[string]any{"app_id": testAppID})
	e.mustFail(resp, err, "app_secret")
	resp, err = e.write("config", map[string]any{"app_secret": "s"})
	e.mustFail(resp, err, "app_id")
}

func TestConfigDelete(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.mustOK(e.do(logical.DeleteOperation, "config", nil))
	if resp, _ := e.read("config"); resp != nil {
		t.Fatalf("config still readable: %v", resp.Data)
	}
	resp, err := e.write("accounts/x", map[string]any{"code": "abc"})
	e.mustFail(resp, err, "not configured")
}

func TestConfigRefreshWindowReschedules(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	issued := e.clock.Now().Add(-10 * 24 * time.Hour)
	e.registerLongLived("shop", "shop_user", issued)
	// The refresh is 20 days out; the schedule takes the account up first
	// for its daily health check.
	refresh := issued.Add(longLivedLifetime - defaultRefreshWindow)
	if got := e.mustOK(e.read("accounts/shop")).Data["next_refresh_at"]; got != formatTime(refresh) {
		t.Fatalf("next_refresh_at = %v, want %v", got, formatTime(refresh))
	}
	check, _ := e.account("shop").scheduled().InstagramCheckDueAt()
	if before := e.b.sched.DueTime("shop"); !before.Equal(check) || !check.Before(refresh) {
		t.Fatalf("due = %v, want the health check at %v (before the refresh at %v)", before, check, refresh)
	}
	// A 50-day window brings the refresh forward, before the check: the
	// schedule follows at once.
	e.mustOK(e.write("config", map[string]any{"refresh_window": "1200h"}))
	after := e.b.sched.DueTime("shop")
	if want := issued.Add(longLivedLifetime - 1200*time.Hour); !after.Equal(want) || !want.Before(check) {
		t.Fatalf("after window change due = %v, want %v", after, want)
	}
	if got := e.mustOK(e.read("accounts/shop")).Data["next_refresh_at"]; got != formatTime(after) {
		t.Fatalf("next_refresh_at after the change = %v, want %v", got, formatTime(after))
	}
}
