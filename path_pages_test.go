package instagram

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func TestFacebookPagesListAndChoose(t *testing.T) {
	e := newFacebookEnv(t)
	u := e.registerFacebook("shop", "shop_user", false)
	side, _ := e.meta.AddPage(u.UserID, "Side Page")
	userToken := e.account("shop").AccessToken

	resp := e.mustOK(e.read("accounts/shop/pages"))
	raw, _ := json.Marshal(resp.Data)
	if strings.Contains(string(raw), "EAA") || strings.Contains(string(raw), "access_token") {
		t.Fatalf("the pages listing shows a token: %s", raw)
	}
	want := []map[string]any{
		{"id": u.PageID, "name": "shop_user Page", "instagram_business_account_id": u.UserID},
		{"id": side.ID, "name": "Side Page", "instagram_business_account_id": ""},
	}
	if !reflect.DeepEqual(resp.Data["pages"], want) || resp.Data["page_id"] != "" {
		t.Fatalf("pages = %v", resp.Data)
	}

	// A Page without an Instagram account cannot be chosen.
	before := e.storageSnapshot()
	resp, err := e.write("accounts/shop", map[string]any{"page_id": side.ID})
	e.mustFail(resp, err, "page_id:")
	if httpStatus(resp, err) != http.StatusBadRequest || !reflect.DeepEqual(before, e.storageSnapshot()) {
		t.Fatal("a refused page_id was not a 400, or changed storage")
	}

	// page_id alone switches the account to that Page, from the stored
	// user token: no new authorization.
	codes := e.meta.Calls(graphtest.EndpointFacebookExchangeCode)
	e.mustOK(e.write("accounts/shop", map[string]any{"page_id": u.PageID}))
	e.rememberTokens("shop")
	a := e.account("shop")
	if info, _ := e.meta.TokenInfo(a.AccessToken); info.Kind != graphtest.KindPage || a.UserAccessToken != userToken {
		t.Fatalf("after choosing the Page: served %+v", info)
	}
	if e.meta.Calls(graphtest.EndpointFacebookExchangeCode) != codes {
		t.Fatal("choosing a Page exchanged a code")
	}
	tok := e.mustOK(e.read("token/shop"))
	if tok.Data["access_token"] != a.AccessToken || tok.Data["instagram_user_id"] != u.UserID {
		t.Fatalf("token/shop = %v", redactedData(tok))
	}
	if resp := e.mustOK(e.read("accounts/shop/pages")); resp.Data["page_id"] != u.PageID {
		t.Fatalf("pages page_id = %v", resp.Data["page_id"])
	}
}

func TestPagesReadRefusals(t *testing.T) {
	e := newFacebookEnv(t)
	u := e.registerFacebook("shop", "shop_user", true)

	// Unknown account: 404 (no data), like accounts/<name>.
	resp, err := e.read("accounts/nobody/pages")
	e.mustBeUnregistered("accounts/nobody/pages", "nobody", resp, err)
	resp, err = e.read("accounts/bad!name/pages")
	e.mustFail(resp, err, "name:")

	// A dead user token: 409, and the account is not marked by a read.
	e.meta.RevokeUser(u.UserID)
	resp, err = e.read("accounts/shop/pages")
	e.mustFail(resp, err, "re-authorize")
	if got := httpStatus(resp, err); got != http.StatusConflict {
		t.Fatalf("status %d, want 409", got)
	}
	if a := e.account("shop"); a.Status != statusValid {
		t.Fatalf("a pages read changed the account's status to %s", a.Status)
	}

	// Meta down: 502.
	e.meta.Fail(graphtest.EndpointPages, 1, graphtest.Failure{Status: 503})
	resp, err = e.read("accounts/shop/pages")
	if got := httpStatus(resp, err); got != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", got)
	}
}
