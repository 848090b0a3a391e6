package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

const testNotifySecret = "notify-shared-secret-value"

// hookDelivery is one request the test receiver got.
type hookDelivery struct {
	ev        notify.Event
	body      []byte
	signature string
}

// hookReceiver is an httptest receiver recording every event, answering
// what answer says for the n-th request (0-based).
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []hookDelivery
	answer func(n int) int
}

func newHookReceiver(t *testing.T, answer func(n int) int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("the receiver got a body that is not an event: %v", err)
		}
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, hookDelivery{ev: ev, body: body, signature: req.Header.Get(notify.SignatureHeader)})
		status := r.answer(n)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func answerAlways(status int) func(int) int { return func(int) int { return status } }

func (r *hookReceiver) deliveries() []hookDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *hookReceiver) types() []notify.Type {
	var out []notify.Type
	for _, d := range r.deliveries() {
		out = append(out, d.ev.Type)
	}
	return out
}

// useTestOutbox gives e's backend an outbox that never lingers for a retry
// (the test says when the next periodic run comes) with jitter at its top.
func (e *testEnv) useTestOutbox() {
	e.b.outbox.Close()
	e.b.outbox = newOutbox(e.b, func(o *notify.Options) {
		o.Linger = -1
		o.Jitter = func() float64 { return 0.999 }
	})
}

// enableNotify configures e with a receiver as notify_url.
func (e *testEnv) enableNotify(answer func(int) int, extra map[string]any) *hookReceiver {
	e.t.Helper()
	rcv := newHookReceiver(e.t, answer)
	e.useTestOutbox()
	e.secrets = append(e.secrets, testNotifySecret)
	data := map[string]any{"notify_url": rcv.URL, "notify_secret": testNotifySecret}
	for k, v := range extra {
		data[k] = v
	}
	e.configure(data)
	return rcv
}

// delivered waits for the delivery run under way (an enqueue hands one
// off) to end.
func (e *testEnv) delivered() { e.b.outbox.Wait() }

// tickAndDeliver is one periodic run and the delivery it hands off.
func (e *testEnv) tickAndDeliver() {
	e.t.Helper()
	e.tick()
	e.delivered()
}

// makeNeedsReauth revokes name's token at the fake and has a manual
// refresh find it out (a day on, so that the token may be refreshed).
func (e *testEnv) makeNeedsReauth(name string, u graphtest.User) {
	e.t.Helper()
	e.meta.Revoke(e.meta.CurrentToken(u.UserID))
	e.clock.Advance(25 * time.Hour)
	resp, err := e.write("accounts/"+name+"/refresh", nil)
	if err == nil && (resp == nil || !resp.IsError()) {
		e.t.Fatalf("a refresh of a revoked token succeeded")
	}
	if a := e.account(name); a.Status != statusNeedsReauth {
		e.t.Fatalf("%s is %s after its token was revoked, want needs_reauth", name, a.Status)
	}
}

// checkSignedAndClean verifies every delivery's signature and that no
// secret the test knows is in any body (but the consent link's own state in
// reauth_url, which is the link).
func (e *testEnv) checkSignedAndClean(rcv *hookReceiver) {
	e.t.Helper()
	for i, d := range rcv.deliveries() {
		if !notify.Verify([]byte(testNotifySecret), d.body, d.signature) {
			e.t.Errorf("delivery %d (%s): the signature does not verify", i, d.ev.Type)
		}
		body := string(d.body)
		if d.ev.ReauthURL != "" {
			link, _ := json.Marshal(d.ev.ReauthURL)
			body = strings.Replace(body, string(link), `""`, 1)
		}
		for _, s := range e.secrets {
			if s != "" && strings.Contains(body, s) {
				e.t.Errorf("delivery %d (%s) carries a secret", i, d.ev.Type)
			}
		}
	}
}

// TestEveryEventTypeIsDeliveredSigned drives every change that makes an
// event, each through the engine's own path for it (a manual refresh of a
// revoked token, a registration, a failing refresh, Meta's deauthorize
// callback, a delete, Meta's app throttle), and checks what the receiver
// got: one signed event per change, in order, with the account, its
// status after the change and no secret. Changes that make no event
// (registering, recovering from refresh_failing) send nothing.
func TestEveryEventTypeIsDeliveredSigned(t *testing.T) {
	e := newTestEnv(t)
	rcv := e.enableNotify(answerAlways(http.StatusOK), nil)
	u := e.registerFromCode("shop", "shop_user")
	e.delivered()
	if got := rcv.deliveries(); len(got) != 0 {
		t.Fatalf("registering a new account sent %v", rcv.types())
	}

	e.makeNeedsReauth("shop", u)
	e.delivered()
	// Registered again by the same user: usable again.
	e.registerFromCode("shop", "shop_user")
	e.delivered()

	// A refresh Meta cannot answer: refresh_failing, once per streak.
	e.clock.Advance(25 * time.Hour)
	e.meta.Fail(graphtest.EndpointRefresh, 2, graphtest.Failure{Status: 500, Body: "Internal Server Error"})
	for range 2 {
		_, _ = e.write("accounts/shop/refresh", nil)
	}
	e.delivered()
	e.mustOK(e.write("accounts/shop/refresh", nil)) // recovers: no event
	e.delivered()

	a := e.account("shop")
	e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.signedRequestFor(a.UserID)})
	e.delivered()
	e.mustOK(e.do("delete", "accounts/shop", nil))
	e.delivered()
	e.mustOK(e.do("delete", "accounts/shop", nil)) // nothing left: no event
	e.delivered()

	// Meta throttles the whole app while refreshing another account.
	e.registerDue("due", 1)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(4, 30))
	e.tickAndDeliver()
	e.clock.Advance(31 * time.Minute)
	e.tickAndDeliver()

	want := []notify.Type{notify.NeedsReauth, notify.Reauthorized, notify.RefreshFailing, notify.Deauthorized, notify.Deleted, notify.AppPaused, notify.AppResumed}
	if got := rcv.types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	wantStatus := []string{"needs_reauth", "valid", "refresh_failing", "needs_reauth", "deleted", "paused", "running"}
	ids := map[string]bool{}
	for i, d := range rcv.deliveries() {
		ev := d.ev
		if ev.Status != wantStatus[i] {
			t.Errorf("%s: status %q, want %q", ev.Type, ev.Status, wantStatus[i])
		}
		if wantAccount := map[bool]string{true: "", false: "shop"}[ev.Type.AppLevel()]; ev.Account != wantAccount {
			t.Errorf("%s: account %q, want %q", ev.Type, ev.Account, wantAccount)
		}
		if len(ev.ID) != 32 || ids[ev.ID] {
			t.Errorf("%s: id %q is not a fresh 128-bit hex id", ev.Type, ev.ID)
		}
		ids[ev.ID] = true
		if ev.At.IsZero() || ev.ReauthURL != "" {
			t.Errorf("%s: at %v, reauth_url set %v", ev.Type, ev.At, ev.ReauthURL != "")
		}
	}
	for _, i := range []int{0, 2, 3} {
		if rcv.deliveries()[i].ev.Reason == "" {
			t.Errorf("%s carries no reason", rcv.deliveries()[i].ev.Type)
		}
	}
	e.checkSignedAndClean(rcv)
	if f := e.b.outbox.Figures(); f.Pending != 0 || f.Delivered != uint64(len(want)) || f.FailedAttempts != 0 {
		t.Fatalf("figures %+v", f)
	}
}

// TestReceiverAnswering503TwiceGetsTheSameEventThreeTimes: the same event,
// same id and body, until the 2xx, and never again after it; the first
// retry comes within a minute.
func TestReceiverAnswering503TwiceGetsTheSameEventThreeTimes(t *testing.T) {
	e := newTestEnv(t)
	rcv := e.enableNotify(func(n int) int {
		if n < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}, nil)
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()
	for range 3 {
		e.clock.Advance(time.Minute)
		e.tickAndDeliver()
	}
	for range 5 {
		e.clock.Advance(time.Hour)
		e.tickAndDeliver()
	}
	got := rcv.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries (%v), want 3", len(got), rcv.types())
	}
	for _, d := range got[1:] {
		if d.ev.ID != got[0].ev.ID || string(d.body) != string(got[0].body) {
			t.Fatalf("a retry differs from the first attempt: %s vs %s", d.body, got[0].body)
		}
	}
	e.checkSignedAndClean(rcv)
	f := e.b.outbox.Figures()
	if f.Pending != 0 || f.Delivered != 1 || f.FailedAttempts != 2 || f.Dropped() != 0 {
		t.Fatalf("figures %+v", f)
	}
	if keys, _ := e.storage.List(context.Background(), notify.StoragePrefix); len(keys) != 0 {
		t.Fatalf("a delivered event is still stored: %v", keys)
	}
}

// TestUndeliveredEventSurvivesARestartWithItsID: the event is stored
// before it is sent, so a new plugin process (a reload, a crash, a leader
// change) delivers what the old one could not, with the same id.
func TestUndeliveredEventSurvivesARestartWithItsID(t *testing.T) {
	e := newTestEnv(t)
	down := true
	var mu sync.Mutex
	rcv := e.enableNotify(func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}, nil)
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()
	first := rcv.deliveries()
	if len(first) != 1 {
		t.Fatalf("%d attempts before the restart, want 1", len(first))
	}

	e.restart()
	e.useTestOutbox()
	mu.Lock()
	down = false
	mu.Unlock()
	e.tickAndDeliver()
	got := rcv.deliveries()
	if len(got) != 2 || got[1].ev.ID != first[0].ev.ID || got[1].ev.Type != notify.NeedsReauth {
		t.Fatalf("after the restart: %d deliveries %v, want the same needs_reauth event again", len(got), rcv.types())
	}
	e.checkSignedAndClean(rcv)
}

// putFailingStorage is storage whose writes under prefix fail.
type putFailingStorage struct {
	logical.Storage
	prefix string
}

func (p *putFailingStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if strings.HasPrefix(e.Key, p.prefix) {
		return errors.New("storage unavailable")
	}
	return p.Storage.Put(ctx, e)
}

// TestEventOfAChangeThatCouldNotBeStoredIsWithdrawn: the event is stored
// before the change; when the change's write fails, the event goes too.
func TestEventOfAChangeThatCouldNotBeStoredIsWithdrawn(t *testing.T) {
	e := newTestEnv(t)
	rcv := e.enableNotify(answerAlways(http.StatusOK), nil)
	u := e.registerFromCode("shop", "shop_user")
	e.meta.Revoke(e.meta.CurrentToken(u.UserID))
	e.clock.Advance(25 * time.Hour)
	e.useStorage(&putFailingStorage{Storage: e.storage, prefix: accountStoragePrefix})
	_, _ = e.write("accounts/shop/refresh", nil)
	e.delivered()
	if got := rcv.deliveries(); len(got) != 0 {
		t.Fatalf("the event of a change that was not stored was sent: %v", rcv.types())
	}
	if keys, _ := e.storage.List(context.Background(), notify.StoragePrefix); len(keys) != 0 {
		t.Fatalf("the event of a change that was not stored is still stored: %v", keys)
	}
	if a := e.account("shop"); a.Status != statusValid {
		t.Fatalf("shop is %s", a.Status)
	}
}

// TestNoNotifyURLStoresNothing: without notify_url no event is stored (the
// webhook is off), whatever changes.
func TestNoNotifyURLStoresNothing(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	if keys, _ := e.storage.List(context.Background(), notify.StoragePrefix); len(keys) != 0 {
		t.Fatalf("events stored without notify_url: %v", keys)
	}
}

// TestReauthLinkLoop: with notify_reauth_links, account.needs_reauth
// carries a consent link; the owner following it through Meta's dialog
// and the callback makes the account usable again, and
// account.reauthorized follows. The link is single-use, lives a day, and
// cannot hand the account to another user.
func TestReauthLinkLoop(t *testing.T) {
	e := newTestEnv(t)
	rcv := e.enableNotify(answerAlways(http.StatusOK), map[string]any{"notify_reauth_links": true})
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()

	got := rcv.deliveries()
	if len(got) != 1 || got[0].ev.Type != notify.NeedsReauth || got[0].ev.ReauthURL == "" {
		t.Fatalf("deliveries %v; want one account.needs_reauth with a reauth_url", rcv.types())
	}
	link, err := url.Parse(got[0].ev.ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	state := link.Query().Get("state")
	e.secrets = append(e.secrets, state, got[0].ev.ReauthURL)
	if want := e.meta.Endpoints().AuthBaseURL + "/oauth/authorize"; link.Scheme+"://"+link.Host+link.Path != want {
		t.Fatalf("reauth_url is %s, want Meta's dialog %s", link.Redacted(), want)
	}
	st, err := loadState(context.Background(), e.storage, hashState(state))
	if err != nil || st == nil {
		t.Fatalf("no pending state stored for the link: %v", err)
	}
	if st.Account != "shop" || !st.Replace || st.AllowUserChange || !st.ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("the link's state: %+v; want account shop, replace, no user change, a day to live", st)
	}

	// The owner follows the link through Meta's dialog and the callback.
	back := e.authorizeAtFake(link, url.Values{"fake_user": {"shop_user"}})
	e.callback(logical.ReadOperation, back).expect(t, http.StatusOK, "Connected @shop_user to account shop")
	e.delivered()
	if a := e.account("shop"); a.Status != statusValid {
		t.Fatalf("shop is %s after its owner re-authorized it", a.Status)
	}
	got = rcv.deliveries()
	if len(got) != 2 || got[1].ev.Type != notify.Reauthorized || got[1].ev.Account != "shop" || got[1].ev.Status != statusValid {
		t.Fatalf("deliveries %v; want account.reauthorized for shop after needs_reauth", rcv.types())
	}
	// Single-use: the same link again connects nothing.
	e.callback(logical.ReadOperation, back).expect(t, http.StatusBadRequest, "unknown or was already used")

	// The next needs_reauth brings a fresh link; another Instagram user
	// opening it cannot take the account (the anti-repoint rule).
	e.makeNeedsReauth("shop", u)
	e.delivered()
	got = rcv.deliveries()
	if len(got) != 3 || got[2].ev.ReauthURL == "" || got[2].ev.ReauthURL == got[0].ev.ReauthURL {
		t.Fatalf("the second needs_reauth carries no fresh link: %v", rcv.types())
	}
	e.secrets = append(e.secrets, got[2].ev.ReauthURL)
	link2, _ := url.Parse(got[2].ev.ReauthURL)
	e.secrets = append(e.secrets, link2.Query().Get("state"))
	e.meta.AddUser("intruder")
	back = e.authorizeAtFake(link2, url.Values{"fake_user": {"intruder"}})
	e.callback(logical.ReadOperation, back).expect(t, http.StatusConflict)
	if a := e.account("shop"); a.Status != statusNeedsReauth || a.UserID != u.UserID {
		t.Fatalf("a link opened by another user changed the account: %s, user %s", a.Status, a.UserID)
	}
	e.delivered()
	if n := len(rcv.deliveries()); n != 3 {
		t.Fatalf("a refused re-authorization sent an event: %v", rcv.types())
	}
	e.checkSignedAndClean(rcv)
}

// TestReauthLinksCountAgainstThePendingStateCap: a consent link a
// notification carries is a pending state like auth-url's, so it counts
// against max_pending_states; with the cap reached, the event still goes
// out, without the link, and no state is stored beyond the cap.
func TestReauthLinksCountAgainstThePendingStateCap(t *testing.T) {
	e := newTestEnv(t)
	rcv := e.enableNotify(answerAlways(http.StatusOK), map[string]any{"notify_reauth_links": true, "max_pending_states": 1})
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()
	if got := rcv.deliveries(); len(got) != 1 || got[0].ev.ReauthURL == "" {
		t.Fatalf("deliveries %v; want a needs_reauth event with its link", rcv.types())
	}
	// The one link is pending: auth-url is now refused by the cap...
	resp, err := e.write("auth-url", map[string]any{"account": "other"})
	if err == nil && (resp == nil || !resp.IsError()) {
		t.Fatal("auth-url was accepted beyond max_pending_states with a notification's link pending")
	}
	// ...and a second account's event goes out without a link.
	v := e.registerFromCode("cafe", "cafe_user")
	e.makeNeedsReauth("cafe", v)
	e.delivered()
	got := rcv.deliveries()
	if len(got) != 2 || got[1].ev.Account != "cafe" || got[1].ev.ReauthURL != "" {
		t.Fatalf("deliveries %v; want cafe's needs_reauth without a link", rcv.types())
	}
	if n := len(e.listStates()); n != 1 {
		t.Fatalf("%d pending states; want 1 (the cap)", n)
	}
}
