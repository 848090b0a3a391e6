package instagram

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// answer is what Vault would send for a handler's result, whatever form it
// takes: a raw response (status, content type and body as given) or a
// regular one (status as Vault maps it, the error text as the body).
type answer struct {
	status      int
	contentType string
	body        string
}

func answerOf(t *testing.T, resp *logical.Response, err error) answer {
	t.Helper()
	if err == nil && resp != nil && resp.Data != nil {
		if status, ok := resp.Data[logical.HTTPStatusCode].(int); ok {
			ct, _ := resp.Data[logical.HTTPContentType].(string)
			body, _ := resp.Data[logical.HTTPRawBody].([]byte)
			return answer{status: status, contentType: ct, body: string(body)}
		}
	}
	if ce, ok := err.(logical.HTTPCodedError); ok {
		return answer{status: ce.Code(), body: ce.Error()}
	}
	code, rerr := logical.RespondErrorCommon(&logical.Request{Operation: logical.UpdateOperation}, resp, err)
	a := answer{status: code}
	if rerr != nil {
		a.body = rerr.Error()
	}
	if code == 0 {
		a.status = http.StatusOK
		if resp == nil {
			a.status = http.StatusNoContent
		}
	}
	return a
}

// signedRequestFor signs a fresh Meta payload for userID with the app
// secret, and registers it as a value that must never be logged.
func (e *testEnv) signedRequestFor(userID string) string {
	e.t.Helper()
	return e.secret(graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(userID, e.clock.Now())))
}

func (e *testEnv) secret(v string) string {
	e.secrets = append(e.secrets, v)
	return v
}

// postSignedRequest writes a Meta callback path as Vault does for Meta's
// form POST, and returns the whole answer.
func (e *testEnv) postSignedRequest(path string, data map[string]any) answer {
	e.t.Helper()
	resp, err := e.write(path, data)
	a := answerOf(e.t, resp, err)
	for _, s := range e.secrets {
		if s != "" && strings.Contains(a.body, s) {
			e.t.Errorf("%s answered a secret (signed_request, token or app secret)", path)
		}
	}
	return a
}

func TestDeauthorize(t *testing.T) {
	for _, tc := range []struct {
		name        string
		wrap        func(string) string
		appScopedID bool // Meta may name the user by its app-scoped id
	}{
		{"unpadded", func(s string) string { return s }, false},
		{"padded form accepted", graphtest.Padded, false},
		{"app-scoped user id", func(s string) string { return s }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			u := e.registerFromCode("shop", "shop_user")
			e.registerFromCode("shop-alias", "shop_user") // the same Instagram user, registered twice
			other := e.registerFromCode("brand", "brand_user")
			otherBefore := accountEntry(e.storageSnapshot(), "brand")

			id := u.UserID
			if tc.appScopedID {
				id = u.ID
				if e.account("shop").AppScopedID != id {
					t.Fatalf("the account does not record the app-scoped id")
				}
			}
			sr := e.secret(tc.wrap(e.signedRequestFor(id)))
			a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr})
			if a.status != http.StatusOK || a.contentType != "application/json" {
				t.Fatalf("deauthorize answered %d %q: %s", a.status, a.contentType, a.body)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || body["success"] != true {
				t.Errorf("body = %s, want {\"success\":true}", a.body)
			}

			for _, name := range []string{"shop", "shop-alias"} {
				st := e.account(name)
				if st == nil || st.AccessToken != "" || st.Status != statusNeedsReauth {
					t.Fatalf("stored %s = %+v, want no token and needs_reauth", name, st)
				}
				resp, err := e.read("token/" + name)
				e.mustFail(resp, err, "needs re-authorization")
				if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != http.StatusConflict {
					t.Errorf("token/%s error = %v, want a 409", name, err)
				}

				acct := e.mustOK(e.read("accounts/" + name))
				if acct.Data["status"] != statusNeedsReauth {
					t.Errorf("accounts/%s status = %v", name, acct.Data["status"])
				}
				if le, _ := acct.Data["last_error"].(string); !strings.Contains(le, "deauthorized") {
					t.Errorf("accounts/%s last_error = %q, want it to say deauthorized", name, le)
				}
				if at, _ := acct.Data["last_error_at"].(string); at != formatTime(e.clock.Now()) {
					t.Errorf("accounts/%s last_error_at = %q", name, at)
				}
				// Like every way into needs_reauth (account_state.go), a
				// deauthorization counts one failure (none before issue 16).
				if n := acct.Data["consecutive_failures"]; n != 1 {
					t.Errorf("accounts/%s consecutive_failures = %v, want 1", name, n)
				}
			}

			if after := accountEntry(e.storageSnapshot(), "brand"); after != otherBefore {
				t.Error("deauthorizing one user changed another user's account")
			}
			resp := e.mustOK(e.read("token/brand"))
			if resp.Data["access_token"] != e.meta.CurrentToken(other.UserID) {
				t.Error("token/brand no longer serves its token")
			}

			// The deauthorized accounts are not refreshed any more.
			e.clock.Advance(50 * 24 * time.Hour)
			e.tick()
			if st := e.account("shop"); st.AccessToken != "" || st.Status != statusNeedsReauth {
				t.Errorf("a tick brought the deauthorized account back: %+v", st)
			}
		})
	}
}

func accountEntry(snap map[string]string, name string) string {
	return snap[accountStoragePrefix+name]
}

func TestDeauthorizeUnknownUser(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	before := e.storageSnapshot()

	a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.signedRequestFor("17841499999999999")})
	if a.status != http.StatusOK {
		t.Fatalf("deauthorize of a user with no account answered %d: %s", a.status, a.body)
	}
	// Only the request is remembered (issue 22, finding 4): every
	// accepted request is, whatever it matched.
	after := e.storageSnapshot()
	remembered := 0
	for k := range after {
		if strings.HasPrefix(k, signedRequestStoragePrefix) {
			delete(after, k)
			remembered++
		}
	}
	if !reflect.DeepEqual(before, after) || remembered != 1 {
		t.Errorf("deauthorizing an unknown user changed storage beyond remembering the request (%d remembered)", remembered)
	}
}

func TestDeauthorizeRefusals(t *testing.T) {
	const maxAge = 10 * time.Minute
	cases := []struct {
		name string
		// data builds the request for the registered user's id.
		data    func(e *testEnv, userID string) map[string]any
		advance time.Duration
		want    string
	}{
		{"bad signature", func(e *testEnv, id string) map[string]any {
			return srData(e, graphtest.SignRequest("another-app-secret", graphtest.MetaPayload(id, e.clock.Now())))
		}, 0, "signature does not match"},
		{"tampered payload", func(e *testEnv, id string) map[string]any {
			sig, _, _ := strings.Cut(e.signedRequestFor("1"), ".")
			payload, _ := json.Marshal(graphtest.MetaPayload(id, e.clock.Now()))
			return srData(e, sig+"."+base64.RawURLEncoding.EncodeToString(payload))
		}, 0, "signature does not match"},
		{"wrong algorithm", func(e *testEnv, id string) map[string]any {
			return srData(e, graphtest.SignRequest(testAppSecret, map[string]any{"algorithm": "HMAC-SHA1", "issued_at": e.clock.Now().Unix(), "user_id": id}))
		}, 0, "algorithm"},
		{"stale issued_at", func(e *testEnv, id string) map[string]any {
			return srData(e, e.signedRequestFor(id))
		}, maxAge + time.Second, "too old"},
		{"garbage", func(e *testEnv, id string) map[string]any {
			return srData(e, "garbage-that-is-no-signed-request")
		}, 0, "two base64url parts"},
		{"missing field", func(e *testEnv, id string) map[string]any {
			return map[string]any{}
		}, 0, "signed_request"},
		{"empty field", func(e *testEnv, id string) map[string]any {
			return map[string]any{"signed_request": ""}
		}, 0, "signed_request: is required"},
		{"unknown field", func(e *testEnv, id string) map[string]any {
			d := srData(e, e.signedRequestFor(id))
			d["user_id"] = id
			return d
		}, 0, "unknown field"}, // an unauthenticated answer names no field the caller chose (issue 22)
		{"given twice", func(e *testEnv, id string) map[string]any {
			sr := e.signedRequestFor(id)
			return map[string]any{"signed_request": []string{sr, sr}}
		}, 0, "signed_request: is malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(map[string]any{"signed_request_max_age": "10m"})
			u := e.registerFromCode("shop", "shop_user")
			data := tc.data(e, u.UserID)
			e.clock.Advance(tc.advance)
			before := e.storageSnapshot()

			a := e.postSignedRequest("deauthorize", data)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, tc.want) {
				t.Errorf("answered %d %q, want 400 saying %q", a.status, a.body, tc.want)
			}
			resp, err := e.write("deauthorize", data)
			e.mustFail(resp, err, tc.want) // also: the error quotes no secret
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Error("a refused deauthorize changed storage")
			}
			e.mustOK(e.read("token/shop"))
		})
	}
}

func srData(e *testEnv, sr string) map[string]any {
	return map[string]any{"signed_request": e.secret(sr)}
}

func TestDeauthorizeWithoutConfig(t *testing.T) {
	e := newTestEnv(t)
	a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.signedRequestFor("1")})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "not configured") {
		t.Errorf("answered %d %q, want 400 not configured", a.status, a.body)
	}
}

// TestCallbacksFindAUsersAccountsWithoutReadingEveryAccount: with the
// schedule built, deauthorize and data-deletion read only the accounts of
// the user Meta names; before it is built (the plugin has just started)
// they read every account, and find the same ones.
func TestCallbacksFindAUsersAccountsWithoutReadingEveryAccount(t *testing.T) {
	for _, tc := range []struct {
		name       string
		unbuilt    bool
		wantReads  func(reads int) bool // account reads spent finding the user's accounts
		readsWants string
	}{
		{"schedule built", false, func(n int) bool { return n == 0 }, "none"},
		{"schedule not built yet", true, func(n int) bool { return n >= 22 }, "all 22"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(map[string]any{"public_url": "https://vault.example.com/v1/instagram"})
			u := e.registerFromCode("shop", "shop_user")
			e.registerFromCode("shop-alias", "shop_user")
			for i := range 20 {
				e.registerFromCode(fmt.Sprintf("other-%02d", i), fmt.Sprintf("other_user_%02d", i))
			}
			if tc.unbuilt {
				e.b.sched = schedule.NewQueue(defaultRefreshWindow) // as between Initialize and the end of the first rebuild
			}
			counter := &accountReadCounter{Storage: e.storage}
			e.storage = counter

			a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.secret(e.signedRequestFor(u.UserID))})
			if a.status != http.StatusOK {
				t.Fatalf("deauthorize answered %d: %s", a.status, a.body)
			}
			// Each of the user's two accounts is read once under its lock,
			// to re-check its owner and change it; the rest is the search.
			if got := counter.reads() - 2; !tc.wantReads(got) {
				t.Errorf("deauthorize read %d accounts to find the user's, want %s", got, tc.readsWants)
			}
			for _, name := range []string{"shop", "shop-alias"} {
				if st := e.account(name); st.Status != statusNeedsReauth || st.AccessToken != "" {
					t.Errorf("%s: status %s, token kept %v", name, st.Status, st.AccessToken != "")
				}
			}
			if st := e.account("other-07"); st.Status != statusValid || st.AccessToken == "" {
				t.Errorf("another user's account was touched: %s", st.Status)
			}

			counter.reset()
			a = e.postSignedRequest("data-deletion", map[string]any{"signed_request": e.secret(e.signedRequestFor(u.UserID))})
			if a.status != http.StatusOK {
				t.Fatalf("data-deletion answered %d: %s", a.status, a.body)
			}
			if got := counter.reads() - 2; !tc.wantReads(got) {
				t.Errorf("data-deletion read %d accounts to find the user's, want %s", got, tc.readsWants)
			}
			for _, name := range []string{"shop", "shop-alias"} {
				if e.account(name) != nil {
					t.Errorf("%s survived the data deletion", name)
				}
			}
			if names, ok := e.b.sched.NamesOfUser(u.UserID); ok && len(names) != 0 {
				t.Errorf("the schedule still names %v as the user's", names)
			}
		})
	}
}

// accountReadCounter counts reads of account records.
type accountReadCounter struct {
	logical.Storage
	mu sync.Mutex
	n  int
}

func (c *accountReadCounter) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if strings.HasPrefix(key, accountStoragePrefix) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return c.Storage.Get(ctx, key)
}

func (c *accountReadCounter) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *accountReadCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = 0
}
