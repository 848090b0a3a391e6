package proxy

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanPathAcceptsGraphPaths(t *testing.T) {
	for raw, want := range map[string]string{
		"me":                   "me",
		"/me/media/":           "me/media",
		"17841400000/insights": "17841400000/insights",
		"1784_99/comments":     "1784_99/comments",
		"me/media_publish":     "me/media_publish",
		"v":                    "v",
		"threads-insights":     "threads-insights",
	} {
		got, err := CleanPath(raw)
		if err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestCleanPathRefusesTraversalSchemesHostsAndVersions(t *testing.T) {
	for _, raw := range []string{
		"", "/", "..", "me/..", "../token/shop", "me/../../sys", "me/./media", "...",
		"%2e%2e/token", "%2E%2E", "me%2F..%2Fx", "%252e%252e",
		"https://evil.example/me", "http:/evil", "//evil.example/me", "evil.example:443/me",
		"user@evil.example", "me?access_token=x", "me#frag", `me\..\x`, "me//media",
		"v25.0/me", "v1.0/me", "me/\x00", "me/médi", "me media", "evil.example", "me/a.b",
		strings.Repeat("a/", 7) + "a", strings.Repeat("a", MaxPathLength+1),
	} {
		if got, err := CleanPath(raw); !errors.Is(err, ErrBadPath) {
			t.Errorf("CleanPath(%q) = %q, %v; want ErrBadPath", raw, got, err)
		}
	}
}

func TestCheckParamsRefusesWhatWouldWidenAPolicy(t *testing.T) {
	for _, name := range []string{"access_token", "ACCESS_TOKEN", " access_token", "appsecret_proof", "method", "Method", "ids", "batch", "callback", "suppress_http_code"} {
		err := CheckParams(map[string][]string{"fields": {"id"}, name: {"x"}})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Field != name {
			t.Errorf("CheckParams with %q = %v; want a ParamError naming it", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "=x") {
			t.Errorf("error %q echoes the value", err)
		}
	}
}

func TestCheckParamsBounds(t *testing.T) {
	ok := map[string][]string{"fields": {"id,username"}, "caption": {strings.Repeat("é", 2200)}, "image_url": {"https://example.com/a.jpg"}}
	if err := CheckParams(ok); err != nil {
		t.Fatalf("a real publish request refused: %v", err)
	}
	many := map[string][]string{}
	for i := 0; i <= MaxParams; i++ {
		many[strings.Repeat("p", i+1)] = []string{"1"}
	}
	big := map[string][]string{"caption": {strings.Repeat("a", MaxParamBytes+1)}}
	total := map[string][]string{}
	for i := 0; i < 8; i++ {
		total[string(rune('a'+i))] = []string{strings.Repeat("a", MaxParamBytes)}
	}
	for name, p := range map[string]map[string][]string{"count": many, "one value": big, "total": total, "empty name": {"": {"x"}}, "name with =": {"a=b": {"x"}}} {
		if err := CheckParams(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFamilyHasNoRawIDs(t *testing.T) {
	for path, want := range map[string]string{
		"me":                         "me",
		"me/media":                   "me/media",
		"17841400000/insights":       "{id}/insights",
		"17841400000":                "{id}",
		"1784_99/comments":           "{id}/comments",
		"17841400000/media_publish":  "{id}/media_publish",
		"someusername/whatever-edge": "{other}/{other}",
		"_1":                         "{other}",
	} {
		if got := Family(path); got != want {
			t.Errorf("Family(%q) = %q; want %q", path, got, want)
		}
	}
}
