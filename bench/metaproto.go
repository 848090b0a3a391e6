package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// The protocol each caller of the fake Meta used, from the fake's own
// count (GET /_fakemeta/protocols): on https the plugin's calls and the
// direct ones must have gone over HTTP/2, as they do to Meta, or the
// comparison measures a path production does not take.

// protocolsByCaller sums the counts by caller: the plugin (its User-Agent
// names it), the benchmark's own Go client (the direct calls and the admin
// API), anything else.
func protocolsByCaller(counts []graphtest.ProtocolCount) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, c := range counts {
		who := "other"
		switch {
		case strings.Contains(c.UserAgent, pluginName+"/"):
			who = "plugin"
		case strings.HasPrefix(c.UserAgent, "Go-http-client/"):
			who = "benchmark"
		}
		if out[who] == nil {
			out[who] = map[string]int{}
		}
		out[who][c.Proto] += c.Requests
	}
	return out
}

// metaProtocolsText says, for the report, over which protocols the fake
// was reached, and warns when the plugin's or the benchmark's calls did not
// all take HTTP/2 on an https fake.
func metaProtocolsText(counts []graphtest.ProtocolCount, https bool) string {
	by := protocolsByCaller(counts)
	var parts []string
	var warn []string
	for _, caller := range []struct{ who, name string }{
		{"plugin", "the plugin's"},
		{"benchmark", "the benchmark client's (direct calls, admin API)"},
		{"other", "others'"},
	} {
		protos := by[caller.who]
		if len(protos) == 0 {
			continue
		}
		var each []string
		for _, p := range slices.Sorted(maps.Keys(protos)) {
			each = append(each, fmt.Sprintf("%d over %s", protos[p], p))
			if https && caller.who != "other" && p != "HTTP/2.0" {
				warn = append(warn, fmt.Sprintf("%d of the %s's requests over %s", protos[p], caller.who, p))
			}
		}
		parts = append(parts, caller.name+" "+strings.Join(each, ", "))
	}
	if len(parts) == 0 {
		return "it counted no requests"
	}
	s := "requests it served: " + strings.Join(parts, "; ")
	if len(warn) > 0 {
		s += "; **not all HTTP/2: " + strings.Join(warn, ", ") + "**"
	}
	return s
}
