package instagram

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// deletionAnswer is Meta's {url, confirmation_code}.
type deletionAnswer struct {
	URL              string `json:"url"`
	ConfirmationCode string `json:"confirmation_code"`
}

func (e *testEnv) requestDeletion(userID string) deletionAnswer {
	e.t.Helper()
	a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": e.signedRequestFor(userID)})
	if a.status != http.StatusOK || a.contentType != "application/json" {
		e.t.Fatalf("data-deletion answered %d %q: %s", a.status, a.contentType, a.body)
	}
	// The whole body is Meta's two fields, not Vault's envelope.
	var fields map[string]any
	if err := json.Unmarshal([]byte(a.body), &fields); err != nil {
		e.t.Fatalf("data-deletion body is not JSON: %s", a.body)
	}
	if len(fields) != 2 {
		e.t.Errorf("data-deletion body = %s, want only url and confirmation_code", a.body)
	}
	var d deletionAnswer
	if err := json.Unmarshal([]byte(a.body), &d); err != nil || d.URL == "" || d.ConfirmationCode == "" {
		e.t.Fatalf("data-deletion body = %s", a.body)
	}
	return d
}

func TestDataDeletion(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.registerFromCode("shop-alias", "shop_user")
	other := e.registerFromCode("brand", "brand_user")
	brandBefore := accountEntry(e.storageSnapshot(), "brand")
	requested := e.clock.Now()

	d := e.requestDeletion(u.UserID)
	if !confirmationCodeRegex.MatchString(d.ConfirmationCode) {
		t.Errorf("confirmation_code %q is not 128 random bits in hex", d.ConfirmationCode)
	}
	base := strings.TrimSuffix(testRedirectURI, "/callback")
	if want := base + "/data-deletion/" + d.ConfirmationCode; d.URL != want {
		t.Errorf("url = %q, want %q (redirect_uri without /callback)", d.URL, want)
	}

	for _, name := range []string{"shop", "shop-alias"} {
		if e.account(name) != nil {
			t.Errorf("account %s survived its owner's data deletion", name)
		}
		resp, err := e.read("accounts/" + name)
		e.mustBeUnregistered("accounts/"+name, name, resp, err)
		resp, err = e.read("token/" + name)
		e.mustBeUnregistered("token/"+name, name, resp, err)
	}
	if accountEntry(e.storageSnapshot(), "brand") != brandBefore {
		t.Error("another user's account changed")
	}
	if resp := e.mustOK(e.read("token/brand")); resp.Data["access_token"] != e.meta.CurrentToken(other.UserID) {
		t.Error("token/brand no longer serves its token")
	}

	// The status page: status and times, nothing that says who.
	e.clock.Advance(time.Hour)
	resp, err := e.read("data-deletion/" + d.ConfirmationCode)
	a := answerOf(t, resp, err)
	if a.status != http.StatusOK || a.contentType != "application/json" {
		t.Fatalf("status read answered %d %q: %s", a.status, a.contentType, a.body)
	}
	var status map[string]any
	if err := json.Unmarshal([]byte(a.body), &status); err != nil {
		t.Fatalf("status body is not JSON: %s", a.body)
	}
	want := map[string]any{
		"confirmation_code": d.ConfirmationCode,
		"status":            "deleted",
		"requested_at":      formatTime(requested),
		"completed_at":      formatTime(requested),
	}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("status = %v, want %v", status, want)
	}
	snap := e.storageSnapshot()
	for _, who := range []string{u.UserID, u.ID, u.Username, "shop"} {
		if strings.Contains(a.body, who) {
			t.Errorf("the status page says %q", who)
		}
		if strings.Contains(snap[deletionStoragePrefix+d.ConfirmationCode], who) {
			t.Errorf("the stored deletion record keeps %q", who)
		}
	}

	// A second request gets a code of its own.
	if again := e.requestDeletion(u.UserID); again.ConfirmationCode == d.ConfirmationCode {
		t.Error("two deletions got the same confirmation code")
	}
}

func TestDataDeletionPublicURL(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"public_url": "https://public.example.com/v1/ig/"})
	d := e.requestDeletion("17841400000000001") // no account: still answered
	if want := "https://public.example.com/v1/ig/data-deletion/" + d.ConfirmationCode; d.URL != want {
		t.Errorf("url = %q, want %q (from public_url)", d.URL, want)
	}
}

func TestDataDeletionNeedsAPublicURL(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"redirect_uri": "https://vault.example.com/oauth/return"})
	u := e.registerLongLived("shop", "shop_user", e.clock.Now())
	before := e.storageSnapshot()
	a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": e.signedRequestFor(u.UserID)})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "public_url") {
		t.Errorf("answered %d %q, want 400 naming public_url", a.status, a.body)
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a refused data deletion changed storage")
	}
}

func TestDataDeletionStatusUnknownCode(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.requestDeletion("17841400000000001")
	for _, code := range []string{
		strings.Repeat("0", 32), // well-formed, never issued
		strings.Repeat("A", 32), // upper case: not a code this engine issues
		"..",                    // not a code at all
		strings.Repeat("a", 33), // too long
	} {
		resp, err := e.read("data-deletion/" + code)
		if err != nil || resp != nil {
			t.Errorf("data-deletion/%s answered %v, %v; want nothing (a 404)", code, resp, err)
			continue
		}
		if status, _ := logical.RespondErrorCommon(&logical.Request{Operation: logical.ReadOperation}, resp, err); status != http.StatusNotFound {
			t.Errorf("data-deletion/%s status = %d, want 404", code, status)
		}
	}
}

func TestDataDeletionRefusesTampered(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	before := e.storageSnapshot()

	sig, _, _ := strings.Cut(e.signedRequestFor("1"), ".")
	_, payload, _ := strings.Cut(graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(u.UserID, e.clock.Now())), ".")
	for name, sr := range map[string]string{
		"signature of another payload": sig + "." + payload,
		"another app's secret":         graphtest.SignRequest("another-app-secret", graphtest.MetaPayload(u.UserID, e.clock.Now())),
	} {
		t.Run(name, func(t *testing.T) {
			a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": e.secret(sr)})
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "signature does not match") {
				t.Errorf("answered %d %q, want a 400 about the signature", a.status, a.body)
			}
		})
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a refused data deletion changed storage")
	}
	e.mustOK(e.read("token/shop"))
}
