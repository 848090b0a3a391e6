package graph

import "testing"

func TestCleanCode(t *testing.T) {
	tests := map[string]string{
		"AQBx-y_z":           "AQBx-y_z",
		"AQBx#_":             "AQBx",
		"  AQBx#_ \n":        "AQBx",
		"AQBx#":              "AQBx",
		"AQBx#_=_":           "AQBx",
		"AQB_x_":             "AQB_x_", // a trailing "_" without "#" is part of the code
		"AQBx#_#_":           "AQBx#_", // only one fragment is Meta's
		"":                   "",
		"   ":                "",
		"#_":                 "",
		"AQBx #_":            "AQBx",
		"AQBx#something":     "AQBx#something",
		"AQBx%23_":           "AQBx%23_",
		"\tAQBxyz0123456789": "AQBxyz0123456789",
	}
	for in, want := range tests {
		if got := CleanCode(in); got != want {
			t.Errorf("CleanCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppSecretProof(t *testing.T) {
	// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got := AppSecretProof("Jefe", "what do ya want for nothing?"); got != want {
		t.Fatalf("AppSecretProof = %s, want %s", got, want)
	}
}

func TestJoinURL(t *testing.T) {
	tests := []struct {
		base  string
		elems []string
		want  string
	}{
		{"https://graph.instagram.com", []string{"v25.0", "me"}, "https://graph.instagram.com/v25.0/me"},
		{"https://graph.instagram.com/", []string{"/refresh_access_token"}, "https://graph.instagram.com/refresh_access_token"},
		{"http://127.0.0.1:1234/graph.instagram.com", []string{"v25.0", "me"}, "http://127.0.0.1:1234/graph.instagram.com/v25.0/me"},
		{"http://127.0.0.1:1234/graph.facebook.com/", []string{"", "oauth/access_token"}, "http://127.0.0.1:1234/graph.facebook.com/oauth/access_token"},
		{"https://proxy.example/meta/ig//", []string{"/v25.0/", "/me/accounts/"}, "https://proxy.example/meta/ig/v25.0/me/accounts"},
	}
	for _, tt := range tests {
		if got := joinURL(tt.base, tt.elems...); got != tt.want {
			t.Errorf("joinURL(%q, %q) = %q, want %q", tt.base, tt.elems, got, tt.want)
		}
	}
}

func TestEndpointsWithDefaults(t *testing.T) {
	got := Endpoints{GraphBaseURL: "http://proxy/ig", Version: "24.0"}.withDefaults()
	want := DefaultEndpoints()
	want.GraphBaseURL, want.Version = "http://proxy/ig", "v24.0"
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := (Endpoints{}).withDefaults(); got != DefaultEndpoints() {
		t.Fatalf("zero Endpoints = %+v", got)
	}
}
