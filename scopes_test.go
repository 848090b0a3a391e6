package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// retiredScopeCases pairs each scope name Meta retired on 2025-01-27 with
// the name that replaced it.
var retiredScopeCases = [][2]string{
	{"business_basic", "instagram_business_basic"},
	{"business_content_publish", "instagram_business_content_publish"},
	{"business_manage_messages", "instagram_business_manage_messages"},
	{"business_manage_comments", "instagram_business_manage_comments"},
	{"business_manage_insights", "instagram_business_manage_insights"},
}

// TestRetiredScopesRefusedInConfig: a config write naming a retired scope
// is a 400 naming the field and the current name, and changes nothing.
func TestRetiredScopesRefusedInConfig(t *testing.T) {
	for _, c := range retiredScopeCases {
		t.Run(c[0], func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			before := e.storageSnapshot()
			resp, err := e.write("config", map[string]any{"scopes": "instagram_business_basic," + c[0]})
			e.mustFail(resp, err, "scopes:")
			e.mustFail(resp, err, c[0])
			e.mustFail(resp, err, c[1])
			e.mustFail(resp, err, "2025-01-27")
			assertStatus(t, resp, err, http.StatusBadRequest)
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Error("a refused config write changed storage")
			}
		})
	}
}

// TestRetiredScopesRefusedInAuthURL: the same for auth-url's scopes; no
// state is stored.
func TestRetiredScopesRefusedInAuthURL(t *testing.T) {
	for _, c := range retiredScopeCases {
		t.Run(c[0], func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			before := e.storageSnapshot()
			resp, err := e.write("auth-url", map[string]any{"account": "shop", "scopes": c[0]})
			e.mustFail(resp, err, "scopes:")
			e.mustFail(resp, err, c[1])
			assertStatus(t, resp, err, http.StatusBadRequest)
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Error("a refused auth-url changed storage")
			}
		})
	}
}

// TestStoredRetiredScopesWarnWithoutBreakingTheMount: a config stored by a
// version that still accepted the retired names keeps working: reads answer
// it with a warning naming the current names, writes of other fields go
// through (with the same warning), and accounts keep being served. Only an
// auth-url that would send the retired names to Meta's dialog, which
// refuses them, is a 400 saying what to change.
func TestStoredRetiredScopesWarnWithoutBreakingTheMount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_owner")

	// What an older version stored.
	ctx := context.Background()
	entry, err := e.storage.Get(ctx, configStoragePath)
	if err != nil || entry == nil {
		t.Fatal(entry, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(entry.Value, &raw); err != nil {
		t.Fatal(err)
	}
	raw["scopes"] = []string{"business_basic", "instagram_business_manage_comments"}
	old, _ := json.Marshal(raw)
	if err := e.storage.Put(ctx, &logical.StorageEntry{Key: configStoragePath, Value: old}); err != nil {
		t.Fatal(err)
	}
	e.b.resetConfig()

	resp := e.mustOK(e.read("config"))
	if got := resp.Data["scopes"]; !reflect.DeepEqual(got, []string{"business_basic", "instagram_business_manage_comments"}) {
		t.Errorf("scopes read = %v, want the stored ones", got)
	}
	if !warned(resp, "business_basic", "instagram_business_basic") {
		t.Errorf("config read warnings %q do not name the retired scope and its current name", resp.Warnings)
	}

	// Another field can still be changed; the stored scopes stay, with
	// the warning repeated.
	resp = e.mustOK(e.write("config", map[string]any{"request_timeout": 20}))
	if resp == nil || !warned(resp, "business_basic", "instagram_business_basic") {
		t.Errorf("config write of another field: %v, want it to go through with the warning", resp)
	}
	if got := e.mustOK(e.read("config")).Data["request_timeout"]; got != int64(20) {
		t.Errorf("request_timeout = %v after the write", got)
	}

	// Accounts are served as before.
	if tok := e.mustOK(e.read("token/shop")).Data["access_token"]; tok == "" {
		t.Error("token/shop not served")
	}

	// An auth-url with config's scopes would fail at Meta's dialog: 400.
	resp, err = e.write("auth-url", map[string]any{"account": "brand"})
	e.mustFail(resp, err, "scopes:")
	e.mustFail(resp, err, "instagram_business_basic")
	assertStatus(t, resp, err, http.StatusBadRequest)
	// With scopes of its own it works.
	e.authURL(map[string]any{"account": "brand", "scopes": "instagram_business_basic"})

	// Fixing the scopes ends the warnings.
	resp = e.mustOK(e.write("config", map[string]any{"scopes": "instagram_business_basic"}))
	if resp != nil && len(resp.Warnings) > 0 {
		t.Errorf("warnings after the scopes were fixed: %q", resp.Warnings)
	}
	if resp := e.mustOK(e.read("config")); len(resp.Warnings) > 0 {
		t.Errorf("read warnings after the scopes were fixed: %q", resp.Warnings)
	}
}

func warned(resp *logical.Response, want ...string) bool {
	for _, w := range resp.Warnings {
		ok := true
		for _, s := range want {
			ok = ok && strings.Contains(w, s)
		}
		if ok {
			return true
		}
	}
	return false
}
