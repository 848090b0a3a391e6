//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestReplayedSignedRequestActsOnce replays captured Meta callbacks against
// a real Vault (issue 13, finding 3): a deauthorize replayed after the
// owner authorized again leaves the account working, and a data deletion
// replayed after the account was registered again deletes nothing and
// answers the first confirmation code, whose status still reads.
func TestReplayedSignedRequestActsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := &http.Client{Timeout: 30 * time.Second} // Meta holds no Vault token
	shopOwner, brandOwner := e.addUser("shop_owner"), e.addUser("brand_owner")
	register := func(name string, owner graphtest.User) {
		t.Helper()
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{"code": e.mintCode(owner, "instagram_business_basic")}); err != nil {
			e.fatalf("register %s: %v", name, err)
		}
	}

	// Deauthorize: delivered once, the owner authorizes again, replayed.
	register("shop", shopOwner)
	captured := e.signedRequest(shopOwner.UserID)
	if status, _, body := e.postForm(anon, "deauthorize", captured); status != http.StatusOK {
		t.Fatalf("deauthorize answered %d: %s", status, body)
	}
	if acct := e.readAccount(e.root, "shop"); acct["status"] != "needs_reauth" {
		t.Fatalf("accounts/shop after deauthorize: %v", acct["status"])
	}
	register("shop", shopOwner)
	status, ctype, body := e.postForm(anon, "deauthorize", captured)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, `"success":true`) {
		t.Errorf("replayed deauthorize answered %d %q: %s", status, ctype, body)
	}
	if tok := e.readToken(e.root, "shop"); tok.accessToken != e.currentToken(shopOwner) {
		t.Error("a replayed deauthorize dropped the token of an account its owner authorized again")
	}

	// Data deletion: delivered once, the account registered again, replayed.
	register("brand", brandOwner)
	captured = e.signedRequest(brandOwner.UserID)
	type answer struct {
		URL              string `json:"url"`
		ConfirmationCode string `json:"confirmation_code"`
	}
	deletion := func() answer {
		t.Helper()
		status, _, body := e.postForm(anon, "data-deletion", captured)
		var a answer
		if status != http.StatusOK || json.Unmarshal([]byte(body), &a) != nil || a.ConfirmationCode == "" {
			t.Fatalf("data-deletion answered %d: %s", status, body)
		}
		return a
	}
	first := deletion()
	if s, err := e.root.Logical().Read(mountPath + "/accounts/brand"); err != nil || s != nil {
		t.Fatalf("accounts/brand after the data deletion: %v %v", s, err)
	}
	register("brand", brandOwner)
	if again := deletion(); again != first {
		t.Errorf("replayed data-deletion answered %+v, want the first answer %+v", again, first)
	}
	if tok := e.readToken(e.root, "brand"); tok.accessToken != e.currentToken(brandOwner) {
		t.Error("a replayed data deletion deleted an account registered after it")
	}
	status, body = e.rawRead(e.client(""), mountPath+"/data-deletion/"+first.ConfirmationCode)
	if status != http.StatusOK || !strings.Contains(body, `"status":"deleted"`) {
		t.Errorf("the deletion's status answered %d: %s", status, body)
	}
}
