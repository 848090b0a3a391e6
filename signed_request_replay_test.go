package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// storedKeys lists the stored keys under prefix.
func (e *testEnv) storedKeys(prefix string) []string {
	e.t.Helper()
	var out []string
	for k := range e.storageSnapshot() {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// deletionOf posts sr to data-deletion and returns Meta's answer.
func (e *testEnv) deletionOf(sr string) deletionAnswer {
	e.t.Helper()
	a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": sr})
	var d deletionAnswer
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &d) != nil || d.ConfirmationCode == "" {
		e.t.Fatalf("data-deletion answered %d: %s", a.status, a.body)
	}
	return d
}

// TestSignedRequestLeavesAccountsAuthorizedAfterItAlone: a signed request acts on
// the accounts its user had when Meta issued it, not on one registered or
// re-authorized later (a replay must not undo the owner's new consent). A
// registration in the same second as issued_at counts as earlier: Meta's
// issued_at has one-second resolution, and a genuine removal in the second
// of a registration must not be ignored.
func TestSignedRequestLeavesAccountsAuthorizedAfterItAlone(t *testing.T) {
	for _, path := range []string{"deauthorize", "data-deletion"} {
		t.Run(path, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			u := e.registerFromCode("before", "shop_user")
			e.registerFromCode("later", "shop_user")
			e.clock.Advance(time.Minute + 500*time.Millisecond)
			e.registerFromCode("same-second", "shop_user")
			sr := e.signedRequestFor(u.UserID) // issued_at: this second
			e.clock.Advance(time.Second)
			e.registerFromCode("later", "shop_user") // re-authorized after issued_at
			e.registerFromCode("new", "shop_user")   // registered after issued_at
			later := accountEntry(e.storageSnapshot(), "later")
			fresh := accountEntry(e.storageSnapshot(), "new")

			if a := e.postSignedRequest(path, map[string]any{"signed_request": sr}); a.status != http.StatusOK {
				t.Fatalf("%s answered %d: %s", path, a.status, a.body)
			}
			for _, name := range []string{"before", "same-second"} {
				st := e.account(name)
				if path == "deauthorize" && (st == nil || st.AccessToken != "" || st.Status != statusNeedsReauth) {
					t.Errorf("%s: not deauthorized", name)
				}
				if path == "data-deletion" && st != nil {
					t.Errorf("%s: not deleted", name)
				}
			}
			snap := e.storageSnapshot()
			if accountEntry(snap, "later") != later || accountEntry(snap, "new") != fresh {
				t.Fatal("the request acted on an account (re-)authorized after it was issued")
			}
			e.mustOK(e.read("token/later"))
			e.mustOK(e.read("token/new"))
		})
	}
}

// otherTrailingBits spells sr's signature with other unused bits in its
// last character: base64url of 32 bytes leaves two, which a lenient
// decoder ignores. The request still verifies.
func otherTrailingBits(sr string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig, payload, _ := strings.Cut(sr, ".")
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	return sig[:len(sig)-1] + string(alphabet[last^1]) + "." + payload
}

// TestSignedRequestReplayActsOnce: a signed request acts once; a repeat (any
// spelling of it: Meta's padding is tolerated) changes nothing and answers
// what the first got, the same confirmation code for a deletion, also when
// the repeats come at once.
func TestSignedRequestReplayActsOnce(t *testing.T) {
	t.Run("deauthorize", func(t *testing.T) {
		e := newTestEnv(t)
		e.configure(nil)
		u := e.registerFromCode("shop", "shop_user")
		sr := e.signedRequestFor(u.UserID)
		if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr}); a.status != http.StatusOK {
			t.Fatalf("deauthorize answered %d", a.status)
		}
		before := e.storageSnapshot()
		e.clock.Advance(10 * time.Minute)
		for _, again := range []string{sr, e.secret(graphtest.Padded(sr)), e.secret(" " + sr + " "), e.secret(otherTrailingBits(sr))} {
			a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": again})
			if a.status != http.StatusOK || !strings.Contains(a.body, `"success":true`) {
				t.Errorf("a replay answered %d %s, want what the first got", a.status, a.body)
			}
		}
		if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
			t.Error("a replayed deauthorize changed storage (acted again)")
		}
	})
	t.Run("data-deletion", func(t *testing.T) {
		e := newTestEnv(t)
		e.configure(nil)
		u := e.registerFromCode("shop", "shop_user")
		sr := e.signedRequestFor(u.UserID)
		first := e.deletionOf(sr)
		before := e.storageSnapshot()
		e.clock.Advance(10 * time.Minute)

		var wg sync.WaitGroup
		answers := make([]deletionAnswer, 8)
		for i := range answers {
			wg.Go(func() {
				resp, err := e.b.HandleRequest(context.Background(), &logical.Request{
					Operation: logical.UpdateOperation, Path: "data-deletion", Storage: e.storage,
					Data: map[string]any{"signed_request": sr},
				})
				if err == nil && resp != nil {
					body, _ := resp.Data[logical.HTTPRawBody].([]byte)
					_ = json.Unmarshal(body, &answers[i])
				}
			})
		}
		wg.Wait()
		answers = append(answers, e.deletionOf(e.secret(graphtest.Padded(sr))))
		for _, d := range answers {
			if d != first {
				t.Errorf("a replay answered %+v, want the first answer %+v", d, first)
			}
		}
		if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
			t.Errorf("a replayed data deletion changed storage; deletion records: %v", e.storedKeys(deletionStoragePrefix))
		}
	})
}

// TestSignedRequestActsOncePerPath: Meta signs the same payload for both
// callbacks, so a request may reach each path once (Meta itself sends one
// to each when a user removes the app and asks for deletion in the same
// second); on each path it acts at most once.
func TestSignedRequestActsOncePerPath(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	sr := e.signedRequestFor(u.UserID)
	e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr})
	if st := e.account("shop"); st == nil || st.Status != statusNeedsReauth {
		t.Fatal("deauthorize did not act")
	}
	e.clock.Advance(time.Minute)
	first := e.deletionOf(sr)
	if e.account("shop") != nil {
		t.Fatal("data-deletion did not act on a request deauthorize had seen")
	}
	before := e.storageSnapshot()
	e.clock.Advance(time.Minute)
	if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": sr}); a.status != http.StatusOK {
		t.Errorf("deauthorize replay answered %d", a.status)
	}
	if again := e.deletionOf(sr); again != first {
		t.Errorf("data-deletion replay answered %+v, want %+v", again, first)
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("replays on either path changed storage")
	}
	if got := e.storedKeys(deletionStoragePrefix); len(got) != 1 {
		t.Errorf("deletion records %v, want one", got)
	}
}

// TestSignedRequestMemoryIsLocalAndAgesOut: what the engine remembers of
// a request is in local storage (per cluster, never replicated), holds
// neither the request nor the user, and goes once the request is too old
// to be accepted anyway.
func TestSignedRequestMemoryIsLocalAndAgesOut(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"signed_request_max_age": "30m"})
	u := e.registerFromCode("shop", "shop_user")
	sr := e.signedRequestFor(u.UserID)
	d := e.deletionOf(sr)
	if !slices.Contains(e.b.PathsSpecial.LocalStorage, signedRequestStoragePrefix) {
		t.Errorf("%s is not local storage: %v", signedRequestStoragePrefix, e.b.PathsSpecial.LocalStorage)
	}
	keys := e.storedKeys(signedRequestStoragePrefix)
	if len(keys) != 1 {
		t.Fatalf("remembered requests: %v, want one", keys)
	}
	stored := e.storageSnapshot()[keys[0]] + keys[0]
	_, payload, _ := strings.Cut(sr, ".")
	for _, what := range []string{sr, payload, u.UserID, u.ID, "shop"} {
		if strings.Contains(stored, what) {
			t.Errorf("the remembered request keeps %q", what)
		}
	}

	e.clock.Advance(29 * time.Minute)
	e.tick()
	if got := e.storedKeys(signedRequestStoragePrefix); len(got) != 1 {
		t.Fatalf("a request still young enough was forgotten: %v", got)
	}
	if again := e.deletionOf(sr); again != d {
		t.Errorf("replay before the max age answered %+v", again)
	}
	e.clock.Advance(2 * time.Minute)
	a := e.postSignedRequest("data-deletion", map[string]any{"signed_request": sr})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "too old") {
		t.Errorf("a request past its max age answered %d %s", a.status, a.body)
	}
	e.clock.Advance(stateSweepEvery + recordSweepEvery)
	e.tick()
	if got := e.storedKeys(signedRequestStoragePrefix); len(got) != 0 {
		t.Errorf("remembered requests after they aged out: %v", got)
	}
}

// TestDeletionRecordsExpire: a deletion's status record goes after
// config's deletion_record_ttl (90 days by default), swept by the periodic
// work; the status read answers 404 from then on.
func TestDeletionRecordsExpire(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	resp := e.mustOK(e.read("config"))
	if got := resp.Data["deletion_record_ttl"]; got != int64(90*24*3600) {
		t.Fatalf("deletion_record_ttl = %v, want 90 days in seconds", got)
	}
	for _, bad := range []string{"1h", "0", "-5", "87600h1s"} {
		before := e.storageSnapshot()
		resp, err := e.write("config", map[string]any{"deletion_record_ttl": bad})
		e.mustFail(resp, err, "deletion_record_ttl")
		if !reflect.DeepEqual(before, e.storageSnapshot()) {
			t.Errorf("a refused deletion_record_ttl=%s changed storage", bad)
		}
	}

	d := e.requestDeletion("17841400000000001")
	status := func() int {
		resp, err := e.read("data-deletion/" + d.ConfirmationCode)
		return answerOf(t, resp, err).status
	}
	e.clock.Advance(89 * 24 * time.Hour)
	e.tick()
	if got := status(); got != http.StatusOK {
		t.Fatalf("status after 89 days answered %d", got)
	}
	e.clock.Advance(24*time.Hour + time.Second)
	if got := status(); got != http.StatusNoContent {
		t.Errorf("status of an expired, not yet swept record answered %d, want none (404)", got)
	}
	e.tick()
	if got := e.storedKeys(deletionStoragePrefix); len(got) != 0 {
		t.Errorf("deletion records after 90 days: %v", got)
	}

	e.mustOK(e.write("config", map[string]any{"deletion_record_ttl": "48h"}))
	d = e.requestDeletion("17841400000000002")
	e.clock.Advance(47 * time.Hour)
	e.tick()
	if got := status(); got != http.StatusOK {
		t.Fatalf("status after 47 hours of 48 answered %d", got)
	}
	e.clock.Advance(2 * time.Hour)
	e.tick()
	if got := e.storedKeys(deletionStoragePrefix); len(got) != 0 {
		t.Errorf("deletion records after deletion_record_ttl=48h: %v", got)
	}
}

// TestDeletionRecordSweepIsBounded: the periodic work examines a bounded number
// of records per run, and gets through a backlog run after run.
func TestDeletionRecordSweepIsBounded(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	const n = 1000
	old := e.clock.Now()
	for range n {
		code, _ := newConfirmationCode()
		entry, _ := logical.StorageEntryJSON(deletionStoragePrefix+code, deletionRecord{Status: deletionStatusDeleted, RequestedAt: old, CompletedAt: old})
		if err := e.storage.Put(context.Background(), entry); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(defaultDeletionRecordTTL + time.Hour)
	// A deletion that deleted an account (one that found none stores no
	// record: issue 22, finding 4).
	young := e.requestDeletion(e.registerFromCode("young", "young_user").UserID)

	counter := &prefixOpCounter{Storage: e.storage, prefix: deletionStoragePrefix}
	e.storage = counter
	runs := 0
	for ; len(e.storedKeys(deletionStoragePrefix)) > 1 && runs < 20; runs++ {
		counter.reset()
		e.tick()
		if got := counter.count(); got > 2*maxRecordSweep {
			t.Fatalf("one periodic run made %d storage calls on deletion records, want at most %d", got, 2*maxRecordSweep)
		}
	}
	if runs < n/maxRecordSweep || runs >= 20 {
		t.Errorf("the backlog took %d runs, want about %d", runs, n/maxRecordSweep+1)
	}
	if got := e.storedKeys(deletionStoragePrefix); !reflect.DeepEqual(got, []string{deletionStoragePrefix + young.ConfirmationCode}) {
		t.Errorf("records left: %d, want only the young one", len(got))
	}
}

// prefixOpCounter counts Get and Delete calls on keys under prefix.
type prefixOpCounter struct {
	logical.Storage
	prefix string
	mu     sync.Mutex
	n      int
}

func (c *prefixOpCounter) add(key string) {
	if strings.HasPrefix(key, c.prefix) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

func (c *prefixOpCounter) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	c.add(key)
	return c.Storage.Get(ctx, key)
}

func (c *prefixOpCounter) Delete(ctx context.Context, key string) error {
	c.add(key)
	return c.Storage.Delete(ctx, key)
}

func (c *prefixOpCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *prefixOpCounter) reset() {
	c.mu.Lock()
	c.n = 0
	c.mu.Unlock()
}
