package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// Anyone who can read a Facebook user's fbsr_<app_id> cookie (the
// JavaScript SDK's, on any site of the same app) holds a valid signed
// request for that user, and a fresh one every time the SDK renews it: an
// unauthenticated caller with an endless supply of requests that verify.
// These tests play that caller.

// TestAcceptedDeauthorizeIsRememberedEvenWhenItDropsNothing: a deauthorize
// that matched no account is remembered like any other (its repeat is
// answered as before and acts on nothing, even if an account of that user
// was registered before the request and appears later, as on a restore),
// and what it stores is the remembered request alone.
func TestAcceptedDeauthorizeIsRememberedEvenWhenItDropsNothing(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	before := e.storageSnapshot()
	sr := e.signedRequestFor("17841499999999999")
	if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr}); a.status != http.StatusOK {
		t.Fatalf("deauthorize answered %d %s", a.status, a.body)
	}
	after := e.storageSnapshot()
	var added []string
	for k := range after {
		if _, ok := before[k]; !ok {
			added = append(added, k)
		}
	}
	if len(added) != 1 || !strings.HasPrefix(added[0], signedRequestStoragePrefix) || len(after) != len(before)+1 {
		t.Fatalf("a deauthorize that dropped nothing stored %v, want one remembered request", added)
	}
	e.clock.Advance(time.Minute)
	if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr}); a.status != http.StatusOK || !strings.Contains(a.body, `"success":true`) {
		t.Fatalf("its replay answered %d %s", a.status, a.body)
	}
	if again := e.storageSnapshot(); !reflect.DeepEqual(again, after) {
		t.Error("a replay changed storage")
	}
}

// TestFreshSignedRequestsDoNotFloodTheLogOrRewriteAccounts: a stream of
// fresh, valid requests for users with and without accounts writes at most
// one line a minute per path about them (then a line counting the rest),
// and drops a token once: an account already deauthorized is not written
// again.
func TestFreshSignedRequestsDoNotFloodTheLogOrRewriteAccounts(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.registerFromCode("shop-alias", "shop_user")
	e.clock.Advance(time.Second)
	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	for i := range 40 {
		who := u.UserID
		if i%2 == 1 {
			who = "17841499999999999"
		}
		for _, path := range []string{"deauthorize", "data-deletion"} {
			if path == "data-deletion" && who == u.UserID {
				continue // it would delete the accounts
			}
			if a := e.postSignedRequest(path, map[string]any{"signed_request": e.signedRequestFor(who)}); a.status != http.StatusOK {
				t.Fatalf("%s answered %d %s", path, a.status, a.body)
			}
		}
		if i == 0 {
			if st := e.account("shop"); st.AccessToken != "" || st.Status != statusNeedsReauth {
				t.Fatalf("the first request did not drop the token: %+v", st)
			}
			rec.take()
		}
		e.clock.Advance(time.Second) // a fresh request each second: 40 s in all
	}
	ops, _ := rec.take()
	for _, op := range ops {
		if strings.HasPrefix(op, "put "+accountStoragePrefix) || strings.HasPrefix(op, "put "+indexStoragePrefix) {
			t.Errorf("later requests wrote %s: an account already deauthorized was written again", op)
		}
	}
	for _, path := range []string{"deauthorize", "data-deletion"} {
		var lines []string
		for _, l := range e.logLines("path=" + path) {
			if !strings.Contains(l, "refused") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 2 {
			t.Errorf("%s: %d log lines about 40 s of valid requests, want at most 2:\n%s", path, len(lines), strings.Join(lines, "\n"))
		}
	}
	if got := e.logLines("account deauthorized by its owner"); len(got) > 2 {
		t.Errorf("%d per-account lines, want at most one a minute", len(got))
	}
	e.clock.Advance(time.Minute)
	e.tick()
	if got := e.logLines("not logged", "path=deauthorize"); len(got) != 1 {
		t.Errorf("no line counts the deauthorize lines not logged: %v", got)
	}
}

// TestDataDeletionWithoutAccountsStoresNothing: a data deletion request
// for a user with no account here answers a confirmation code derived from
// the request (a keyed hash of the user and issued_at), stores nothing
// (no deletion record, no remembered request), answers a replay the same
// code, and the status URL of that code says no data is held, until
// deletion_record_ttl; a code changed by one character is unknown.
func TestDataDeletionWithoutAccountsStoresNothing(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	before := e.storageSnapshot()
	issued := e.clock.Now()
	sr := e.signedRequestFor("17841499999999999")
	d := e.deletionOf(sr)
	if after := e.storageSnapshot(); !reflect.DeepEqual(after, before) {
		var added []string
		for k := range after {
			if _, ok := before[k]; !ok {
				added = append(added, k)
			}
		}
		t.Fatalf("a deletion for a user with no account stored %v", added)
	}
	if !confirmationCodeRegex.MatchString(d.ConfirmationCode) || !strings.HasSuffix(d.URL, "/data-deletion/"+d.ConfirmationCode) {
		t.Fatalf("answer %+v", d)
	}
	e.clock.Advance(10 * time.Minute)
	if again := e.deletionOf(sr); again != d {
		t.Errorf("a replay answered %+v, want %+v", again, d)
	}
	if other := e.deletionOf(e.signedRequestFor("17841499999999998")); other.ConfirmationCode == d.ConfirmationCode {
		t.Error("two users got the same code")
	}
	status := func(code string) (int, map[string]any) {
		resp, err := e.read("data-deletion/" + code)
		a := answerOf(t, resp, err)
		var body map[string]any
		_ = json.Unmarshal([]byte(a.body), &body)
		return a.status, body
	}
	got, body := status(d.ConfirmationCode)
	if got != http.StatusOK || body["status"] != deletionStatusNoData || body["requested_at"] != formatTime(issued) {
		t.Fatalf("status of the derived code: %d %v", got, body)
	}
	for _, s := range []string{"17841499999999999", "shop"} {
		if strings.Contains(strings.Join(strings.Fields(strings.TrimSpace(string(mustJSON(t, body)))), ""), s) {
			t.Errorf("the status page names %q", s)
		}
	}
	// A performance standby answers the status too (it is not forwarded):
	// the key is replicated.
	r, rs := e.replica(consts.ReplicationPerformanceStandby)
	resp, err := r.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "data-deletion/" + d.ConfirmationCode, Storage: rs})
	if a := answerOf(t, resp, err); a.status != http.StatusOK || !strings.Contains(a.body, deletionStatusNoData) {
		t.Errorf("a performance standby answered the derived code's status %d %s", a.status, a.body)
	}
	flipped := []byte(d.ConfirmationCode)
	flipped[len(flipped)-1] ^= 1
	if got, _ := status(string(flipped)); got != http.StatusNoContent {
		t.Errorf("a forged code answered %d, want none (404)", got)
	}
	e.clock.Advance(defaultDeletionRecordTTL)
	if got, _ := status(d.ConfirmationCode); got != http.StatusNoContent {
		t.Errorf("a derived code past deletion_record_ttl answered %d, want none (404)", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
