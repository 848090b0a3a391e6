package instagram

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestAllowedConfigIDsLimitTheConfigurationsAuthURLShows: with config's
// allowed_config_ids set, auth-url refuses any other config_id with a 400
// naming config_id (storing no state), and takes the listed ones; config
// refuses a facebook_config_id outside the list and a list entry that is
// not a configuration ID, each naming its field. Unset, any configuration
// goes, as before.
func TestAllowedConfigIDsLimitTheConfigurationsAuthURLShows(t *testing.T) {
	e, conf := newBusinessEnv(t, graphtest.Configuration{})
	other, _ := e.meta.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	stranger, _ := e.meta.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})

	// Not set: any configuration ID is taken.
	e.authURL(map[string]any{"account": "free", "config_id": stranger.ID})

	e.mustOK(e.write("config", map[string]any{"allowed_config_ids": conf.ID + "," + other.ID}))
	if got := e.mustOK(e.read("config")).Data["allowed_config_ids"]; !reflect.DeepEqual(got, []string{conf.ID, other.ID}) {
		t.Fatalf("allowed_config_ids read back as %v", got)
	}

	before := e.storageSnapshot()
	resp, err := e.write("auth-url", map[string]any{"account": "brand", "config_id": stranger.ID})
	e.mustFail(resp, err, "config_id:")
	assertStatus(t, resp, err, http.StatusBadRequest)
	if !reflect.DeepEqual(before, e.storageSnapshot()) {
		t.Fatal("a refused config_id stored a state")
	}
	if u, _ := e.authURL(map[string]any{"account": "brand", "config_id": other.ID}); u.Query().Get("config_id") != other.ID {
		t.Fatalf("a listed config_id was not shown: %s", u)
	}
	if u, _ := e.authURL(map[string]any{"account": "shop"}); u.Query().Get("config_id") != conf.ID {
		t.Fatalf("config's facebook_config_id was not shown: %s", u)
	}

	e.assertConfigRefused(t, map[string]any{"facebook_config_id": stranger.ID}, "facebook_config_id")
	e.assertConfigRefused(t, map[string]any{"allowed_config_ids": other.ID}, "facebook_config_id") // config's own would fall out
	e.assertConfigRefused(t, map[string]any{"allowed_config_ids": conf.ID + ",my-config"}, "allowed_config_ids")

	// Cleared, any configuration goes again.
	e.mustOK(e.write("config", map[string]any{"allowed_config_ids": ""}))
	e.authURL(map[string]any{"account": "brand2", "config_id": stranger.ID})
}

// TestCallbackRefusesAConfigurationNoLongerAllowed: a link issued for a
// configuration that the admin has since taken off allowed_config_ids
// registers nothing: the callback refuses it (400) before exchanging the
// code, and logs the config_id.
func TestCallbackRefusesAConfigurationNoLongerAllowed(t *testing.T) {
	e, conf := newBusinessEnv(t, graphtest.Configuration{})
	other, _ := e.meta.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	e.mustOK(e.write("config", map[string]any{"allowed_config_ids": conf.ID + "," + other.ID}))
	owner := e.meta.AddUser("biz_owner")
	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "brand", "config_id": other.ID}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))

	e.mustOK(e.write("config", map[string]any{"allowed_config_ids": conf.ID}))
	exchanges := e.meta.Calls(graphtest.EndpointFacebookExchangeCode)
	p := e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), owner.Username))
	p.expect(t, http.StatusBadRequest, "Authorization not completed", "no account was connected")
	if e.meta.Calls(graphtest.EndpointFacebookExchangeCode) != exchanges {
		t.Error("the code was exchanged for a configuration no longer allowed")
	}
	if a, _ := e.b.getAccount(t.Context(), e.storage, "brand"); a != nil {
		t.Fatal("an account was registered through a configuration no longer allowed")
	}
	logged := false
	for _, l := range strings.Split(e.logs.String(), "\n") {
		logged = logged || strings.Contains(l, "authorization callback refused") && strings.Contains(l, "config_id="+other.ID)
	}
	if !logged {
		t.Error("no refusal log line names the config_id")
	}
}
