package instagram

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

// The config fields of the in-Vault authorization flow and Meta's callbacks.

func TestConfigAuthFieldsDefaults(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	resp := e.mustOK(e.read("config"))
	want := map[string]any{
		"allowed_redirect_uris":  []string{},
		"state_ttl":              int64(15 * 60),
		"signed_request_max_age": int64(3600),
		"public_url":             "",
	}
	for k, v := range want {
		if got := resp.Data[k]; !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
}

func TestConfigAuthFieldsWriteRead(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{
		"allowed_redirect_uris":  " https://vault-a.example.com/v1/instagram/callback, ,https://vault-b.example.com:8200/v1/instagram/callback,https://vault-a.example.com/v1/instagram/callback",
		"state_ttl":              "30m",
		"signed_request_max_age": 7200,
		"public_url":             " https://vault.example.com/v1/instagram ",
	})
	check := func(want map[string]any) {
		t.Helper()
		resp := e.mustOK(e.read("config"))
		for k, v := range want {
			if got := resp.Data[k]; !reflect.DeepEqual(got, v) {
				t.Errorf("%s = %#v, want %#v", k, got, v)
			}
		}
	}
	check(map[string]any{
		"allowed_redirect_uris": []string{
			"https://vault-a.example.com/v1/instagram/callback",
			"https://vault-b.example.com:8200/v1/instagram/callback",
		},
		"state_ttl":              int64(1800),
		"signed_request_max_age": int64(7200),
		"public_url":             "https://vault.example.com/v1/instagram",
	})

	// An update that does not name them keeps them.
	e.mustOK(e.write("config", map[string]any{"request_timeout": 20}))
	check(map[string]any{"state_ttl": int64(1800), "public_url": "https://vault.example.com/v1/instagram"})

	// The limits are inclusive; empty values clear the optional fields.
	e.mustOK(e.write("config", map[string]any{
		"allowed_redirect_uris":  "",
		"state_ttl":              "24h",
		"signed_request_max_age": "24h",
		"public_url":             "",
	}))
	check(map[string]any{
		"allowed_redirect_uris":  []string{},
		"state_ttl":              int64(86400),
		"signed_request_max_age": int64(86400),
		"public_url":             "",
	})
}

func TestConfigAuthFieldsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"allowed_redirect_uris relative", map[string]any{"allowed_redirect_uris": "/v1/instagram/callback"}, "allowed_redirect_uris"},
		{"allowed_redirect_uris not http", map[string]any{"allowed_redirect_uris": testRedirectURI + ",ftp://vault.example.com/cb"}, "allowed_redirect_uris"},
		{"allowed_redirect_uris with credentials", map[string]any{"allowed_redirect_uris": "https://u:p@vault.example.com/cb"}, "allowed_redirect_uris"},
		{"allowed_redirect_uris not a list", map[string]any{"allowed_redirect_uris": map[string]any{"a": 1}}, "allowed_redirect_uris"},
		{"state_ttl zero", map[string]any{"state_ttl": 0}, "state_ttl"},
		{"state_ttl negative", map[string]any{"state_ttl": -60}, "state_ttl"},
		{"state_ttl over a day", map[string]any{"state_ttl": "24h1s"}, "state_ttl"},
		{"state_ttl not a duration", map[string]any{"state_ttl": "soon"}, "state_ttl"},
		{"signed_request_max_age zero", map[string]any{"signed_request_max_age": "0s"}, "signed_request_max_age"},
		{"signed_request_max_age over a day", map[string]any{"signed_request_max_age": "25h"}, "signed_request_max_age"},
		{"signed_request_max_age not a duration", map[string]any{"signed_request_max_age": "an hour"}, "signed_request_max_age"},
		{"public_url relative", map[string]any{"public_url": "/v1/instagram"}, "public_url"},
		{"public_url no scheme", map[string]any{"public_url": "vault.example.com/v1/instagram"}, "public_url"},
		{"public_url not http", map[string]any{"public_url": "ftp://vault.example.com/v1/instagram"}, "public_url"},
		{"public_url with credentials", map[string]any{"public_url": "https://u:p@vault.example.com/v1/instagram"}, "public_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			e.assertConfigRefused(t, tc.data, tc.field)
			// The stored config still reads as before.
			if got := e.mustOK(e.read("config")).Data[tc.field]; reflect.DeepEqual(got, tc.data[tc.field]) {
				t.Errorf("config read answers the refused %s", tc.field)
			}
		})
	}
}

// TestConfigAuthFieldsTakeEffect checks each field is used, not just stored.
func TestConfigAuthFieldsTakeEffect(t *testing.T) {
	e := newTestEnv(t)
	const alt = "https://vault-alt.example.com/v1/instagram/callback"
	e.configure(map[string]any{"allowed_redirect_uris": alt, "state_ttl": "5m", "public_url": "https://public.example.com/v1/ig"})

	e.authURL(map[string]any{"account": "shop", "redirect_uri": alt})
	resp, err := e.write("auth-url", map[string]any{"account": "shop", "redirect_uri": "https://other.example.com/cb"})
	e.mustFail(resp, err, "redirect_uri:")

	resp = e.mustOK(e.write("auth-url", map[string]any{"account": "shop"}))
	e.secret(resp.Data["state"].(string))
	if got, want := resp.Data["expires_at"], formatTime(e.clock.Now().Add(5*time.Minute)); got != want {
		t.Errorf("expires_at = %v, want %s (state_ttl 5m)", got, want)
	}

	d := e.requestDeletion("17841400000000001")
	if want := "https://public.example.com/v1/ig/data-deletion/" + d.ConfirmationCode; d.URL != want {
		t.Errorf("data-deletion url = %s, want %s", d.URL, want)
	}

	e.mustOK(e.write("config", map[string]any{"signed_request_max_age": "2m"}))
	sr := e.signedRequestFor("17841400000000001")
	e.clock.Advance(2*time.Minute + time.Second)
	a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr})
	if a.status != http.StatusBadRequest {
		t.Errorf("a signed_request older than signed_request_max_age answered %d", a.status)
	}
}
