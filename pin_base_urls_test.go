package instagram

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestPinnedBaseURLsRefuseEveryOtherValue: with the plugin started under
// VAULT_INSTAGRAM_PIN_BASE_URLS=1 (given by Vault's plugin registration,
// -env, which only Vault's operator sets), a config write that gives any
// base URL other than Meta's default, or keeps one stored, is a 400 naming
// the field and stores nothing, however the config admin asks; Meta's
// defaults (given or omitted) are accepted. A config stored before the pin
// with another base URL sends nothing (metaFor refuses, naming the field)
// and status says why. Without the variable nothing changes.
func TestPinnedBaseURLsRefuseEveryOtherValue(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil) // the fake's URLs, before the pin
	e.registerFromCode("shop", "shop_user")
	e.b.pinBaseURLs = true // as Factory sets it from the environment
	e.b.resetConfig()

	resp, err := e.write("accounts/shop/refresh", nil)
	e.mustFail(resp, err, "auth_base_url")
	status := e.mustOK(e.read("status"))
	if findings := strings.Join(status.Data["health_findings"].([]string), "\n"); status.Data["health"] != healthError || !strings.Contains(findings, "VAULT_INSTAGRAM_PIN_BASE_URLS") {
		t.Fatalf("status: health %v, findings %q; want an error naming the pin", status.Data["health"], findings)
	}

	before := e.storageSnapshot()
	for _, field := range []string{"auth_base_url", "api_base_url", "graph_base_url", "facebook_auth_base_url", "facebook_graph_base_url"} {
		data := map[string]any{"app_id": testAppID}
		for _, f := range (&config{}).baseURLFields() {
			data[f.name] = defaultBaseURL(f.name)
		}
		data[field] = "https://proxy.example.com/" + field
		resp, err := e.write("config", data)
		e.mustFail(resp, err, field+": is pinned")
	}
	resp, err = e.write("config", map[string]any{"app_id": testAppID})
	e.mustFail(resp, err, "auth_base_url: is pinned") // the stored value is kept by a write that omits it
	if after := e.storageSnapshot(); len(after) != len(before) || after[configStoragePath] != before[configStoragePath] {
		t.Fatal("a refused config write changed storage")
	}

	// Meta's defaults pass.
	data := map[string]any{}
	for _, f := range (&config{}).baseURLFields() {
		data[f.name] = defaultBaseURL(f.name)
	}
	e.mustOK(e.write("config", data))
	if status := e.mustOK(e.read("status")); status.Data["health"] == healthError {
		t.Fatalf("after a write of Meta's defaults: %v", status.Data["health_findings"])
	}
}

func defaultBaseURL(field string) string {
	for _, f := range defaultConfig().baseURLFields() {
		if f.name == field {
			return *f.value
		}
	}
	return ""
}

// TestPinBaseURLsIsReadFromThePluginEnvironment: Factory reads
// VAULT_INSTAGRAM_PIN_BASE_URLS once, when Vault starts the plugin's
// backend: true, 1 and the like pin; false, 0 or unset do not; any other
// value fails the mount rather than run unpinned by mistake.
func TestPinBaseURLsIsReadFromThePluginEnvironment(t *testing.T) {
	for value, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "0": false, "false": false, "": false} {
		t.Setenv("VAULT_INSTAGRAM_PIN_BASE_URLS", value)
		lb, err := Factory(context.Background(), logical.TestBackendConfig())
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if got := lb.(*backend).pinBaseURLs; got != want {
			t.Errorf("%q: pinned %v, want %v", value, got, want)
		}
		lb.Cleanup(context.Background())
	}
	t.Setenv("VAULT_INSTAGRAM_PIN_BASE_URLS", "maybe")
	if _, err := Factory(context.Background(), logical.TestBackendConfig()); err == nil || !strings.Contains(err.Error(), "VAULT_INSTAGRAM_PIN_BASE_URLS") {
		t.Fatalf("an unreadable value: %v, want an error naming the variable", err)
	}
}
