package main

import (
	"strings"
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestMetaProtocolsTextWarnsWhenACallMissedHTTP2: the report names the
// protocols the plugin and the benchmark reached the fake over, and on an
// https fake flags any of their requests that did not take HTTP/2 (a
// fallback the comparison would otherwise hide); on plain http, HTTP/1.1
// is what was asked for.
func TestMetaProtocolsTextWarnsWhenACallMissedHTTP2(t *testing.T) {
	ua := "Vault/1.21.3 (+https://www.vaultproject.io/; " + pluginName + "/v1.2.0; go1.26)"
	all2 := []graphtest.ProtocolCount{
		{Proto: "HTTP/2.0", UserAgent: ua, Requests: 120},
		{Proto: "HTTP/2.0", UserAgent: "Go-http-client/2.0", Requests: 300},
	}
	got := metaProtocolsText(all2, true)
	if got != "requests it served: the plugin's 120 over HTTP/2.0; the benchmark client's (direct calls, admin API) 300 over HTTP/2.0" {
		t.Errorf("all HTTP/2: %q", got)
	}
	mixed := append(all2, graphtest.ProtocolCount{Proto: "HTTP/1.1", UserAgent: ua, Requests: 7})
	if got := metaProtocolsText(mixed, true); !strings.Contains(got, "the plugin's 7 over HTTP/1.1, 120 over HTTP/2.0") || !strings.Contains(got, "**not all HTTP/2: 7 of the plugin's requests over HTTP/1.1**") {
		t.Errorf("a plugin request on HTTP/1.1: %q", got)
	}
	plain := []graphtest.ProtocolCount{{Proto: "HTTP/1.1", UserAgent: ua, Requests: 5}}
	if got := metaProtocolsText(plain, false); strings.Contains(got, "not all") {
		t.Errorf("plain http: %q", got)
	}
	if got := metaProtocolsText(nil, true); got != "it counted no requests" {
		t.Errorf("none: %q", got)
	}
}
