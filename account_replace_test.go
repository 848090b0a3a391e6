package instagram

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// expectConflict asserts a 409 whose message contains every one of want.
func (e *testEnv) expectConflict(resp *logical.Response, err error, want ...string) {
	e.t.Helper()
	var coded logical.HTTPCodedError
	if !errors.As(err, &coded) || coded.Code() != http.StatusConflict {
		e.t.Fatalf("want a 409, got %v, %#v", err, resp)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			e.t.Fatalf("the 409 %q does not say %q", err, w)
		}
	}
	e.mustFail(resp, err, want[0]) // and leaks no secret
}

// TestCreateNeverReplacesAnAccountRegisteredMeanwhile: Vault sends a write
// to accounts/<name> as a create when its existence check finds no account,
// which a create-only policy allows. When another registration lands
// between that check and the handler's write, the create is refused with a
// 409 naming the account, and the account registered meanwhile is left
// exactly as it was (even with allow_user_change=true, even from the same
// user).
func TestCreateNeverReplacesAnAccountRegisteredMeanwhile(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	intruder := e.meta.AddUser("intruder_user")
	code := func() string {
		c := e.meta.MintCode(intruder.UserID, grantedScopes, testRedirectURI)
		e.secrets = append(e.secrets, c)
		return c
	}
	owner := e.meta.AddUser("owner_user")
	ownersOther := e.meta.MintLongLivedToken(owner.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-48*time.Hour))
	e.secrets = append(e.secrets, ownersOther)

	requests := []map[string]any{
		{"code": code()},
		{"code": code(), "allow_user_change": true},
		{"access_token": ownersOther},
	}
	creates := make([]*logical.Request, len(requests))
	for i, data := range requests {
		req := &logical.Request{Operation: logical.UpdateOperation, Path: "accounts/shop", Data: data, Storage: e.storage}
		found, exists, err := e.b.HandleExistenceCheck(context.Background(), req)
		if err != nil || !found || exists {
			t.Fatalf("existence check before any registration: found %v exists %v err %v", found, exists, err)
		}
		req.Operation = logical.CreateOperation // what Vault decides from the check
		creates[i] = req
	}

	// Someone else's registration lands after the checks.
	e.mustOK(e.write("accounts/shop", map[string]any{
		"access_token": e.meta.MintLongLivedToken(owner.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-24*time.Hour)),
		"expires_at":   e.clock.Now().Add(59 * 24 * time.Hour).Format(time.RFC3339),
	}))
	e.rememberTokens("shop")
	before := e.storageSnapshot()

	for i, req := range creates {
		resp, err := e.b.HandleRequest(context.Background(), req)
		e.expectConflict(resp, err, `"shop"`, "already registered")
		if after := e.storageSnapshot(); accountEntry(after, "shop") != accountEntry(before, "shop") {
			t.Fatalf("create %d (%v) changed the account registered meanwhile", i, fieldNames(requests[i]))
		}
	}
	if a := e.account("shop"); a.UserID != owner.UserID {
		t.Fatalf("account shop now belongs to %s", a.Username)
	}
}

// TestCreateWithPageIDAloneNeverChangesAnAccountRegisteredMeanwhile: under
// Facebook Login, page_id alone switches a registered account to a Page;
// sent as a create (no account when Vault checked) it must not switch an
// account registered meanwhile: a 409 naming the account, nothing changed.
func TestCreateWithPageIDAloneNeverChangesAnAccountRegisteredMeanwhile(t *testing.T) {
	e := newFacebookEnv(t)
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "accounts/shop", Storage: e.storage}
	found, exists, err := e.b.HandleExistenceCheck(context.Background(), req)
	if err != nil || !found || exists {
		t.Fatalf("existence check before any registration: found %v exists %v err %v", found, exists, err)
	}
	u := e.registerFacebook("shop", "shop_user", false) // lands after the check, serving the user token
	before := e.storageSnapshot()

	req.Operation = logical.CreateOperation
	req.Data = map[string]any{"page_id": u.PageID}
	resp, err := e.b.HandleRequest(context.Background(), req)
	e.expectConflict(resp, err, `"shop"`, "already registered")
	if accountEntry(e.storageSnapshot(), "shop") != accountEntry(before, "shop") {
		t.Fatal("a create with page_id alone switched the account registered meanwhile")
	}
	// As an update (the account exists when Vault checks) it switches.
	e.mustOK(e.write("accounts/shop", map[string]any{"page_id": u.PageID}))
	if a := e.account("shop"); a.PageID != u.PageID {
		t.Fatal("page_id alone on a registered account did not switch it")
	}
}

func fieldNames(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDirectWriteRefusesAnotherUsersTokenWithoutAllowUserChange: writing
// accounts/<name> with a code or access_token of another Instagram user
// than the account's is a 409 naming allow_user_change, and the account
// (its token and user) stays as it was; the account's own user's new token
// is taken without it, and allow_user_change=true repoints the account.
func TestDirectWriteRefusesAnotherUsersTokenWithoutAllowUserChange(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	owner := e.registerFromCode("demo", "demo_user")
	before := e.storageSnapshot()

	other := e.meta.AddUser("other_user")
	otherCode := e.meta.MintCode(other.UserID, grantedScopes, testRedirectURI)
	otherToken := e.meta.MintLongLivedToken(other.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-48*time.Hour))
	e.secrets = append(e.secrets, otherCode, otherToken)
	for _, data := range []map[string]any{
		{"access_token": otherToken},
		{"access_token": otherToken, "allow_user_change": false},
		{"code": otherCode},
	} {
		resp, err := e.write("accounts/demo", data)
		e.expectConflict(resp, err, "allow_user_change", `"demo"`)
		if after := e.storageSnapshot(); accountEntry(after, "demo") != accountEntry(before, "demo") {
			t.Fatalf("a refused write (%v) changed the account", fieldNames(data))
		}
	}
	if tok := e.mustOK(e.read("token/demo")).Data["access_token"]; tok != e.meta.CurrentToken(owner.UserID) {
		t.Fatal("token/demo no longer serves the owner's token")
	}

	// The owner's own new token needs no flag.
	again := e.meta.MintLongLivedToken(owner.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-24*time.Hour))
	e.secrets = append(e.secrets, again)
	e.mustOK(e.write("accounts/demo", map[string]any{"access_token": again}))
	if a := e.account("demo"); a.AccessToken != again || a.UserID != owner.UserID {
		t.Fatal("the owner's new token was not stored")
	}

	// With allow_user_change=true the account is repointed.
	e.mustOK(e.write("accounts/demo", map[string]any{"access_token": otherToken, "allow_user_change": true}))
	if a := e.account("demo"); a.UserID != other.UserID || a.AccessToken != otherToken {
		t.Fatalf("allow_user_change=true did not repoint the account: %s", a.Username)
	}
	if !strings.Contains(e.logs.String(), "allow_user_change=true") {
		t.Error("the repointing is not logged with allow_user_change")
	}
}
