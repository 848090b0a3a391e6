//go:build e2e

package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// TestAuthFlow runs the whole in-Vault authorization on a real Vault: the
// operator asks for a login URL, the owner's browser goes through the
// (fake) Instagram dialog and lands on the unauthenticated callback, which
// registers the account; then Meta's deauthorize callback, also
// unauthenticated, drops it again.
func TestAuthFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.addUser("shop_owner")
	anon := &http.Client{Timeout: 30 * time.Second} // no Vault token anywhere

	// 1. The operator builds the login URL.
	sec, err := e.root.Logical().Write(mountPath+"/auth-url", map[string]any{"account": "shop"})
	if err != nil {
		e.fatalf("auth-url: %v", err)
	}
	loginURL, _ := sec.Data["url"].(string)
	state, _ := sec.Data["state"].(string)
	e.secrets.Add("state from auth-url", state)
	login, err := url.Parse(loginURL)
	if err != nil || state == "" || login.Query().Get("state") != state {
		t.Fatalf("auth-url answered url %q (parse error %v) and a state that is not in it", loginURL, err)
	}

	// 2. The owner's browser at Instagram's dialog: consent, redirect.
	back := e.authorize(login, owner)
	if back.Get("state") != state || back.Get("code") == "" {
		t.Fatalf("the dialog's redirect does not carry a code and the state")
	}

	// 3. The redirect lands on Vault, with no token.
	callback := e.addr + "/v1/" + mountPath + "/callback?" + url.Values{"code": {back.Get("code")}, "state": {back.Get("state")}}.Encode()
	status, ctype, body := e.get(anon, callback)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "connected") || !strings.Contains(body, "@"+owner.Username) {
		t.Fatalf("callback answered %d %q:\n%s", status, ctype, body)
	}
	if tok := e.readToken(e.root, "shop"); tok.accessToken != e.currentToken(owner) {
		t.Fatal("token/shop is not the token the fake issued for the owner")
	}

	// 4. Replaying the redirect is refused: the state is used up.
	status, ctype, body = e.get(anon, callback)
	if status != http.StatusBadRequest || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "unknown or was already used") {
		t.Errorf("replayed callback answered %d %q:\n%s", status, ctype, body)
	}

	// 5. A state auth-url never issued is refused, code or not.
	forged := e.secrets.Add("forged state", base64.RawURLEncoding.EncodeToString([]byte(vaultproc.RandHex(16))))
	code := e.mintCode(owner, "instagram_business_basic")
	status, _, body = e.get(anon, e.addr+"/v1/"+mountPath+"/callback?"+url.Values{"code": {code}, "state": {forged}}.Encode())
	if status != http.StatusBadRequest || !strings.Contains(body, "not valid") {
		t.Errorf("forged state answered %d:\n%s", status, body)
	}
	if n := e.fake.Calls(graphtest.EndpointExchangeCode); n != 1 {
		t.Errorf("%d code exchanges, want only the real callback's", n)
	}

	// A second account, of another user, that Meta's callbacks must not touch.
	other := e.addUser("brand_owner")
	if _, err := e.root.Logical().Write(mountPath+"/accounts/brand", map[string]any{"code": e.mintCode(other, "instagram_business_basic")}); err != nil {
		e.fatalf("register brand: %v", err)
	}

	// 6. A tampered signed_request changes nothing.
	valid := e.signedRequest(owner.UserID)
	sig, _, _ := strings.Cut(valid, ".")
	otherPayload, _ := json.Marshal(map[string]any{"algorithm": "HMAC-SHA256", "issued_at": time.Now().Unix(), "user_id": other.UserID})
	tampered := e.secrets.Add("tampered signed_request", sig+"."+base64.RawURLEncoding.EncodeToString(otherPayload))
	status, ctype, body = e.postForm(anon, "deauthorize", tampered)
	if status != http.StatusBadRequest || !strings.Contains(body, "signed_request") {
		t.Errorf("tampered signed_request answered %d %q: %s", status, ctype, body)
	}
	if tok := e.readToken(e.root, "brand"); tok.accessToken != e.currentToken(other) {
		t.Error("token/brand changed after a tampered deauthorize")
	}
	if tok := e.readToken(e.root, "shop"); tok.accessToken != e.currentToken(owner) {
		t.Error("token/shop changed after a tampered deauthorize")
	}

	// 7. Meta's Deauthorize Callback, signed with the app secret.
	status, ctype, body = e.postForm(anon, "deauthorize", valid)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, `"success":true`) {
		t.Fatalf("deauthorize answered %d %q: %s", status, ctype, body)
	}
	if _, err := e.root.Logical().Read(mountPath + "/token/shop"); err == nil {
		t.Error("token/shop still answers a token after the owner removed the app")
	} else if !strings.Contains(vaultproc.ErrorText(err), "re-authorization") {
		t.Errorf("token/shop error = %q, want it to say the account needs re-authorization", vaultproc.ErrorText(err))
	}
	acct := e.readAccount(e.root, "shop")
	if le, _ := acct["last_error"].(string); acct["status"] != "needs_reauth" || !strings.Contains(le, "deauthorized") {
		t.Errorf("accounts/shop = %v, want needs_reauth and last_error saying deauthorized", acct)
	}
	if tok := e.readToken(e.root, "brand"); tok.accessToken != e.currentToken(other) {
		t.Error("deauthorizing one user changed another user's token")
	}
}

// authorize plays the owner's browser at the fake's Instagram login dialog
// as user u, and returns the parameters of the redirect back to Vault.
func (e *env) authorize(login *url.URL, u graphtest.User) url.Values {
	e.t.Helper()
	q := login.Query()
	q.Set("fake_user", u.Username)
	noFollow := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := noFollow.Get(e.fake.Endpoints().AuthBaseURL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("the login dialog answered %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.redirectURI {
		e.t.Fatalf("the dialog redirected to %s, want the engine's callback %s", got, e.redirectURI)
	}
	back := loc.Query()
	e.secrets.Add("authorization code from the dialog", back.Get("code"))
	return back
}

// get fetches url with c, returning status, content type and body.
func (e *env) get(c *http.Client, u string) (int, string, string) {
	e.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return readAll(e.t, resp)
}

// postForm posts signed_request to the mount's path as Meta does: a form,
// no Vault token.
func (e *env) postForm(c *http.Client, path, signedRequest string) (int, string, string) {
	e.t.Helper()
	resp, err := c.PostForm(e.addr+"/v1/"+mountPath+"/"+path, url.Values{"signed_request": {signedRequest}})
	if err != nil {
		e.t.Fatal(err)
	}
	status, ctype, body := readAll(e.t, resp)
	for v, label := range e.secrets.Snapshot() {
		if strings.Contains(body, v) {
			e.t.Errorf("%s answered the %s", path, label)
		}
	}
	return status, ctype, body
}

func readAll(t *testing.T, resp *http.Response) (int, string, string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// signedRequest signs a fresh payload for userID as Meta does:
// base64url(HMAC-SHA256(app secret, payload text)) "." payload text, unpadded.
func (e *env) signedRequest(userID string) string {
	payload, err := json.Marshal(map[string]any{"algorithm": "HMAC-SHA256", "issued_at": time.Now().Unix(), "user_id": userID})
	if err != nil {
		e.t.Fatal(err)
	}
	text := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(e.appSecret))
	mac.Write([]byte(text))
	return e.secrets.Add("signed_request for "+userID, base64.RawURLEncoding.EncodeToString(mac.Sum(nil))+"."+text)
}
