package instagram

import (
	"strings"
	"testing"
)

// TestNotifyConfigFields: notify_url follows the base URL rule and needs
// notify_secret; notify_secret is write-only (reads say notify_secret_set,
// and nothing answers or logs its value); notify_reauth_links defaults to
// false; an empty notify_url turns the webhook off.
func TestNotifyConfigFields(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.secrets = append(e.secrets, testNotifySecret)
	got := e.mustOK(e.read("config")).Data
	if got["notify_url"] != "" || got["notify_secret_set"] != false || got["notify_reauth_links"] != false {
		t.Fatalf("defaults: notify_url %v, notify_secret_set %v, notify_reauth_links %v", got["notify_url"], got["notify_secret_set"], got["notify_reauth_links"])
	}

	for _, tc := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"no secret", map[string]any{"notify_url": "https://hooks.example.com/ig"}, "notify_secret"},
		{"plain http off loopback", map[string]any{"notify_url": "http://hooks.example.com/ig", "notify_secret": testNotifySecret}, "notify_url"},
		{"credentials in the URL", map[string]any{"notify_url": "https://user:pw@hooks.example.com/ig", "notify_secret": testNotifySecret}, "notify_url"},
		{"a query", map[string]any{"notify_url": "https://hooks.example.com/ig?key=1", "notify_secret": testNotifySecret}, "notify_url"},
		{"not a URL", map[string]any{"notify_url": "hooks", "notify_secret": testNotifySecret}, "notify_url"},
		{"an oversized secret", map[string]any{"notify_url": "https://hooks.example.com/ig", "notify_secret": strings.Repeat("s", maxNotifySecretLength+1)}, "notify_secret"},
		{"links without redirect_uri", map[string]any{"notify_url": "https://hooks.example.com/ig", "notify_secret": testNotifySecret, "notify_reauth_links": true, "redirect_uri": ""}, "notify_reauth_links"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertConfigRefused(t, tc.data, tc.field) })
	}

	for _, u := range []string{"https://hooks.example.com/ig", "http://127.0.0.1:9000/hook", "http://localhost:9000"} {
		e.mustOK(e.write("config", map[string]any{"notify_url": u, "notify_secret": testNotifySecret, "notify_reauth_links": true}))
		got := e.mustOK(e.read("config")).Data
		if got["notify_url"] != u || got["notify_secret_set"] != true || got["notify_reauth_links"] != true {
			t.Fatalf("after writing %s: %v", u, got)
		}
		if _, leaked := got["notify_secret"]; leaked {
			t.Fatal("a config read answers notify_secret")
		}
		for k, v := range got {
			if s, ok := v.(string); ok && strings.Contains(s, testNotifySecret) {
				t.Fatalf("config read field %s carries the notify secret", k)
			}
		}
	}
	// Off again: the stored secret stays set, nothing is sent.
	e.mustOK(e.write("config", map[string]any{"notify_url": ""}))
	got = e.mustOK(e.read("config")).Data
	if got["notify_url"] != "" || notifyTarget(e.b.cachedConfig()).Enabled() {
		t.Fatalf("notify_url= left the webhook on: %v", got["notify_url"])
	}
}
