package notify

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A receiver answering 503 twice then 200 gets the same event, same id,
// three times, and never again after the 200.
func TestRetry503TwiceThen200DeliversSameIDThreeTimesThenNothing(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	rcv := newReceiver(t, func(n int, _ Event) int {
		if n < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	target := Target{URL: rcv.URL, Secret: testSecret}
	o := testOutbox(clock, Options{})
	defer o.Close()
	ev := enqueue(t, o, store, NeedsReauth, "shop")

	runOnce(o, store, target)
	// Not due yet: a run inside the back-off sends nothing.
	clock.Advance(10 * time.Second)
	runOnce(o, store, target)
	if got := len(rcv.deliveries()); got != 1 {
		t.Fatalf("after the first 503 and a run inside the back-off: %d requests, want 1", got)
	}
	clock.Advance(RetryDelay(1, 1))
	runOnce(o, store, target)
	clock.Advance(RetryDelay(2, 1))
	runOnce(o, store, target)
	for range 5 {
		clock.Advance(time.Hour)
		runOnce(o, store, target)
	}

	if got, want := rcv.ids(), []string{ev.ID, ev.ID, ev.ID}; !slices.Equal(got, want) {
		t.Fatalf("ids received %v, want %v", got, want)
	}
	for i, d := range rcv.deliveries() {
		if !Verify([]byte(testSecret), d.body, d.signature) {
			t.Errorf("request %d: signature does not verify", i)
		}
		if d.event != ev {
			t.Errorf("request %d: event %+v, want %+v", i, d.event, ev)
		}
	}
	f := o.Figures()
	if f.Pending != 0 || f.Delivered != 1 || f.FailedAttempts != 2 || f.Dropped() != 0 || f.OldestPendingAge != 0 {
		t.Errorf("figures %+v, want 0 pending, 1 delivered, 2 failed attempts, none dropped", f)
	}
	if ids := store.storedIDs(t); len(ids) != 0 {
		t.Errorf("still stored after delivery: %v", ids)
	}
}

// An account's events reach the receiver in the order they were made, each
// only after the one before it was accepted, while another account's go on.
func TestAccountEventsDeliveredInOrderBehindAFailingHead(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	var firstID atomic.Value
	rcv := newReceiver(t, func(_ int, ev Event) int {
		if ev.ID == firstID.Load() {
			firstID.Store("") // fail once
			return http.StatusBadGateway
		}
		return http.StatusNoContent
	})
	target := Target{URL: rcv.URL, Secret: testSecret}
	o := testOutbox(clock, Options{Workers: 4})
	defer o.Close()
	a1 := enqueue(t, o, store, RefreshFailing, "a")
	firstID.Store(a1.ID)
	a2 := enqueue(t, o, store, NeedsReauth, "a")
	b1 := enqueue(t, o, store, NeedsReauth, "b")
	a3 := enqueue(t, o, store, Reauthorized, "a")

	runOnce(o, store, target)
	if got, want := rcv.ids(), []string{a1.ID, b1.ID}; !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("first run delivered %v, want a1 (failed) and b1 only", got)
	}
	clock.Advance(FirstRetry)
	runOnce(o, store, target)
	got := rcv.ids()[2:]
	if want := []string{a1.ID, a2.ID, a3.ID}; !slices.Equal(got, want) {
		t.Fatalf("second run delivered %v, want a1, a2, a3 in order", got)
	}
}

// A property: whatever the receiver fails, each account's events are
// accepted in enqueue order, no event is tried before the one before it in
// its account was accepted, every event is delivered, and each keeps its id.
func TestOrderPerAccountProperty(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			clock := newFakeClock()
			store := newMemStore()
			failRate := rng.Float64() * 0.6
			var mu atomic.Int64
			mu.Store(int64(seed))
			rcv := newReceiver(t, func(n int, _ Event) int {
				// Deterministic per request number.
				if rand.New(rand.NewPCG(seed, uint64(n))).Float64() < failRate {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			})
			target := Target{URL: rcv.URL, Secret: testSecret}
			o := testOutbox(clock, Options{Workers: 1 + int(seed%5), Jitter: rng.Float64})
			defer o.Close()

			order := map[string][]string{} // account -> ids in enqueue order
			accounts := []string{"a", "b", "c", "d"}
			for range 40 {
				acct := accounts[rng.IntN(len(accounts))]
				ev := enqueue(t, o, store, NeedsReauth, acct)
				order[acct] = append(order[acct], ev.ID)
				if rng.IntN(4) == 0 {
					runOnce(o, store, target)
					clock.Advance(time.Duration(rng.IntN(90)) * time.Second)
				}
			}
			for i := 0; o.Figures().Pending > 0; i++ {
				if i > 500 {
					t.Fatalf("still %d pending after 500 runs", o.Figures().Pending)
				}
				runOnce(o, store, target)
				clock.Advance(5 * time.Minute)
			}

			accountOf := map[string]string{}
			for acct, ids := range order {
				for _, id := range ids {
					accountOf[id] = acct
				}
			}
			accepted := map[string][]string{}
			for _, d := range rcv.deliveries() {
				acct := accountOf[d.event.ID]
				if acct == "" {
					t.Fatalf("the receiver got an id never enqueued: %q", d.event.ID)
				}
				next := order[acct][len(accepted[acct])]
				if d.event.ID != next {
					t.Fatalf("account %s: got %s while %s (earlier) was not yet accepted", acct, d.event.ID, next)
				}
				if d.status == http.StatusOK {
					accepted[acct] = append(accepted[acct], d.event.ID)
				}
			}
			for acct, ids := range order {
				if !slices.Equal(accepted[acct], ids) {
					t.Errorf("account %s: accepted %v, want %v", acct, accepted[acct], ids)
				}
			}
		})
	}
}

// An event the receiver never accepts is kept and retried for 24 hours,
// then dropped at its first failure after that, and counted.
func TestUndeliveredEventKeptTwentyFourHoursThenDroppedAndCounted(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	rcv := newReceiver(t, always(http.StatusServiceUnavailable))
	target := Target{URL: rcv.URL, Secret: testSecret}
	o := testOutbox(clock, Options{})
	defer o.Close()
	ev := enqueue(t, o, store, NeedsReauth, "shop")
	start := clock.Now()

	var last time.Time
	for clock.Now().Sub(start) < DefaultMaxAge {
		before := len(rcv.deliveries())
		runOnce(o, store, target)
		if len(rcv.deliveries()) > before {
			if !last.IsZero() && clock.Now().Sub(last) > time.Hour {
				t.Fatalf("attempts %v apart, want at most an hour", clock.Now().Sub(last))
			}
			last = clock.Now()
		}
		if f := o.Figures(); f.Pending != 1 || f.Dropped() != 0 {
			t.Fatalf("at %v: figures %+v, want the event still pending", clock.Now().Sub(start), f)
		}
		clock.Advance(time.Minute) // the periodic run's pace
	}
	// Past 24 h: the next failed attempt drops it.
	for i := 0; o.Figures().Pending > 0; i++ {
		if i > 60 {
			t.Fatal("still pending an hour after 24 h")
		}
		runOnce(o, store, target)
		clock.Advance(time.Minute)
	}
	f := o.Figures()
	if f.DroppedExpired != 1 || f.Dropped() != 1 || f.Delivered != 0 {
		t.Errorf("figures %+v, want one expired drop", f)
	}
	if f.FailedAttempts != uint64(len(rcv.deliveries())) || f.FailedAttempts < 24 {
		t.Errorf("%d failed attempts counted, %d made; want equal and at least 24", f.FailedAttempts, len(rcv.deliveries()))
	}
	for _, id := range rcv.ids() {
		if id != ev.ID {
			t.Fatalf("retry carried id %s, want %s", id, ev.ID)
		}
	}
	if ids := store.storedIDs(t); len(ids) != 0 {
		t.Errorf("the dropped event is still stored: %v", ids)
	}
	clock.Advance(2 * time.Hour)
	n := len(rcv.deliveries())
	runOnce(o, store, target)
	if len(rcv.deliveries()) != n {
		t.Error("a dropped event was tried again")
	}
}

// With no notify_url, nothing is sent, and events past their time are
// dropped all the same.
func TestNoTargetSendsNothingAndExpiresOldEvents(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	o := testOutbox(clock, Options{})
	defer o.Close()
	enqueue(t, o, store, NeedsReauth, "old")
	clock.Advance(DefaultMaxAge - time.Minute)
	young := enqueue(t, o, store, NeedsReauth, "young")
	runOnce(o, store, Target{})
	if f := o.Figures(); f.Pending != 2 {
		t.Fatalf("figures %+v, want both kept before 24 h", f)
	}
	clock.Advance(time.Minute)
	runOnce(o, store, Target{})
	if f := o.Figures(); f.Pending != 1 || f.DroppedExpired != 1 || f.FailedAttempts != 0 {
		t.Errorf("figures %+v, want the old one dropped, no attempt", f)
	}
	if ids := store.storedIDs(t); !slices.Equal(ids, []string{young.ID}) {
		t.Errorf("stored %v, want only the young event", ids)
	}
}

// The backlog never exceeds its bound: the oldest events are dropped, from
// storage too, and counted.
func TestBacklogBoundDropsOldestAndCounts(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	o := testOutbox(clock, Options{MaxPending: 3})
	defer o.Close()
	var ids []string
	for i := range 5 {
		ids = append(ids, enqueue(t, o, store, NeedsReauth, fmt.Sprint("acct", i%2)).ID)
		clock.Advance(time.Second)
		if p := o.Figures().Pending; p > 3 {
			t.Fatalf("pending %d, over the bound of 3", p)
		}
	}
	f := o.Figures()
	if f.Pending != 3 || f.DroppedBacklog != 2 {
		t.Errorf("figures %+v, want 3 pending and 2 dropped for the backlog", f)
	}
	if got := store.storedIDs(t); !slices.Equal(got, ids[2:]) {
		t.Errorf("stored %v, want the three newest %v", got, ids[2:])
	}
	if f.OldestPendingAge != 3*time.Second {
		t.Errorf("oldest pending age %v, want 3s (the third event's, made at 2s, now 5s)", f.OldestPendingAge)
	}
}

// A new outbox over the same storage (a restart, a reload, a new leader)
// delivers what the old one had not, with the same ids, in order.
func TestNewOutboxResumesUndeliveredEventsWithSameIDs(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	down := newReceiver(t, always(http.StatusServiceUnavailable))
	old := testOutbox(clock, Options{})
	e1 := enqueue(t, old, store, NeedsReauth, "a")
	e2 := enqueue(t, old, store, Reauthorized, "a")
	e3 := enqueue(t, old, store, Deleted, "b")
	runOnce(old, store, Target{URL: down.URL, Secret: testSecret})
	old.Close()

	clock.Advance(time.Minute)
	rcv := newReceiver(t, always(http.StatusOK))
	o := testOutbox(clock, Options{})
	defer o.Close()
	if f := o.Figures(); f.Loaded || f.Pending != 0 {
		t.Fatalf("a new outbox before its first run: %+v, want not loaded", f)
	}
	// An event enqueued before the load goes after the stored ones.
	e4 := enqueue(t, o, store, Deleted, "a")
	runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})

	got := rcv.ids()
	if want := []string{e1.ID, e2.ID, e3.ID, e4.ID}; !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if a := filter(got, e1.ID, e2.ID, e4.ID); !slices.Equal(a, []string{e1.ID, e2.ID, e4.ID}) {
		t.Errorf("account a's events came as %v, want in enqueue order", a)
	}
	if f := o.Figures(); !f.Loaded || f.Pending != 0 || f.Delivered != 4 {
		t.Errorf("figures %+v, want loaded, 4 delivered, none pending", f)
	}
}

// A receiver's redirect is not followed: the attempt fails and the other
// server never sees the event or its signature.
func TestRedirectIsNotFollowed(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		rcv := newReceiver(t, always(code))
		rcv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL, code)
		})
		o := testOutbox(clock, Options{})
		enqueue(t, o, store, NeedsReauth, "shop")
		runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})
		if f := o.Figures(); f.FailedAttempts != 1 || f.Delivered != 0 || f.Pending != 1 {
			t.Errorf("%d: figures %+v, want a failed attempt and the event pending", code, f)
		}
		o.Close()
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target was called %d times", n)
	}
}

// A receiver that never answers does not hold up the caller: Run returns
// at once and again while the attempt hangs, figures still answer, and the
// attempt ends at its timeout as a failed attempt.
func TestHangingReceiverDoesNotBlockRun(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	arrived := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices the client going only once the body is read.
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hang.Close()
	o := testOutbox(clock, Options{AttemptTimeout: 200 * time.Millisecond})
	defer o.Close()
	enqueue(t, o, store, NeedsReauth, "shop")
	target := Target{URL: hang.URL, Secret: testSecret}

	if !o.Run(store, target) {
		t.Fatal("Run did not start a delivery run")
	}
	// Run has returned; the request reaches the receiver afterwards, on the
	// outbox's goroutine.
	<-arrived
	if o.Run(store, target) {
		t.Error("a second Run started another run while one is under way")
	}
	if f := o.Figures(); f.Pending != 1 {
		t.Errorf("figures while the attempt hangs: %+v", f)
	}
	o.Wait()
	if f := o.Figures(); f.FailedAttempts != 1 || f.Pending != 1 {
		t.Errorf("after the timeout: %+v, want one failed attempt, the event pending", f)
	}
}

// Closing the outbox cancels an attempt in flight without counting it as
// the receiver's failure; the event stays stored for the next outbox.
func TestCloseCancelsAttemptInFlightAndKeepsTheEvent(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	arrived := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices the client going only once the body is read.
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hang.Close()
	o := testOutbox(clock, Options{AttemptTimeout: time.Hour})
	ev := enqueue(t, o, store, NeedsReauth, "shop")
	o.Run(store, Target{URL: hang.URL, Secret: testSecret})
	<-arrived
	o.Close()
	if f := o.Figures(); f.FailedAttempts != 0 || f.Pending != 1 {
		t.Errorf("figures %+v, want no failed attempt and the event pending", f)
	}
	if ids := store.storedIDs(t); !slices.Equal(ids, []string{ev.ID}) {
		t.Errorf("stored %v, want the event", ids)
	}
	if o.Run(store, Target{URL: hang.URL, Secret: testSecret}) {
		t.Error("Run started a run on a closed outbox")
	}
}

// At most Options.Workers deliveries are in flight at once.
func TestConcurrentDeliveriesBoundedByWorkers(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
	}))
	defer srv.Close()
	o := testOutbox(clock, Options{Workers: 3})
	defer o.Close()
	for i := range 12 {
		enqueue(t, o, store, NeedsReauth, fmt.Sprint("acct", i))
	}
	o.Run(store, Target{URL: srv.URL, Secret: testSecret})
	for range 3 {
		<-arrived
	}
	close(release)
	o.Wait()
	if p := peak.Load(); p != 3 {
		t.Errorf("peak concurrent deliveries %d, want 3", p)
	}
	if f := o.Figures(); f.Delivered != 12 {
		t.Errorf("figures %+v, want all 12 delivered", f)
	}
}

// A run against a receiver that is down stops after a few failures in a
// row rather than trying the whole backlog; the rest waits, still due.
func TestRunStopsAfterFailuresInARow(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	rcv := newReceiver(t, always(http.StatusServiceUnavailable))
	o := testOutbox(clock, Options{Workers: 1})
	defer o.Close()
	for i := range 50 {
		enqueue(t, o, store, NeedsReauth, fmt.Sprint("acct", i))
	}
	runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})
	if n := len(rcv.deliveries()); n != failStreakStop {
		t.Errorf("%d attempts in one run against a dead receiver, want %d", n, failStreakStop)
	}
	// The next run tries others, not the same ones again.
	runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})
	seen := map[string]bool{}
	for _, id := range rcv.ids() {
		if seen[id] {
			t.Fatalf("event %s tried twice before the others were tried once", id)
		}
		seen[id] = true
	}
}

// Within a run, a retry due within the linger is made without waiting for
// the next periodic run: the first retry comes within a minute.
func TestRunWaitsForARetryDueWithinTheLinger(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	rcv := newReceiver(t, func(n int, _ Event) int {
		if n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	waits := make(chan time.Duration, 1)
	fire := make(chan time.Time)
	o := testOutbox(clock, Options{Linger: time.Minute, After: func(d time.Duration) <-chan time.Time {
		waits <- d
		return fire
	}})
	defer o.Close()
	ev := enqueue(t, o, store, NeedsReauth, "shop")
	o.Run(store, Target{URL: rcv.URL, Secret: testSecret})
	d := <-waits
	if d <= 0 || d > 30*time.Second {
		t.Fatalf("the run waits %v for the first retry, want within (0, 30s]", d)
	}
	clock.Advance(d)
	fire <- clock.Now()
	o.Wait()
	if got := rcv.ids(); !slices.Equal(got, []string{ev.ID, ev.ID}) {
		t.Errorf("ids %v, want the event twice", got)
	}
}

// A run waiting for a retry delivers a new event at once when told.
func TestRunWaitingForARetryDeliversANewEventAtOnce(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	var first atomic.Value
	rcv := newReceiver(t, func(_ int, ev Event) int {
		if ev.ID == first.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	waits := make(chan time.Duration, 4)
	o := testOutbox(clock, Options{Linger: time.Minute, After: func(d time.Duration) <-chan time.Time {
		waits <- d
		return make(chan time.Time) // never fires: only the wake ends the wait
	}})
	target := Target{URL: rcv.URL, Secret: testSecret}
	first.Store(enqueue(t, o, store, NeedsReauth, "a").ID)
	o.Run(store, target)
	<-waits
	ev := enqueue(t, o, store, NeedsReauth, "b")
	if o.Run(store, target) {
		t.Fatal("Run started a second run")
	}
	<-waits // delivered, and waiting again for a's retry
	if got := rcv.ids(); len(got) != 2 || got[1] != ev.ID {
		t.Errorf("ids %v, want b's event delivered while a's waits", got)
	}
	o.Close()
}

// Enqueue refuses an event it cannot send and stores nothing.
func TestEnqueueRefusesInvalidEvents(t *testing.T) {
	for name, ev := range map[string]Event{
		"unknown type":              {Type: "account.exploded", Account: "a"},
		"no type":                   {Account: "a"},
		"account event, no account": {Type: NeedsReauth},
	} {
		t.Run(name, func(t *testing.T) {
			store := newMemStore()
			o := testOutbox(newFakeClock(), Options{})
			defer o.Close()
			if _, err := o.Enqueue(context.Background(), store, ev); err == nil {
				t.Error("accepted")
			}
			if ids := store.storedIDs(t); len(ids) != 0 || o.Figures().Pending != 0 {
				t.Errorf("stored %v", ids)
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// filter is s without the elements not in keep, in s's order.
func filter(s []string, keep ...string) []string {
	var out []string
	for _, v := range s {
		if slices.Contains(keep, v) {
			out = append(out, v)
		}
	}
	return out
}

// An event enqueued while its account's previous event is being delivered
// waits for that delivery to end: never sent alongside it, nor before it.
func TestEventEnqueuedDuringItsAccountsDeliveryWaits(t *testing.T) {
	clock, store := newFakeClock(), newMemStore()
	arrived := make(chan string, 10)
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Released before the server closes, also when the test fails early.
	defer releaseOnce.Do(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		arrived <- string(body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	o := testOutbox(clock, Options{Workers: 4})
	defer o.Close()
	target := Target{URL: srv.URL, Secret: testSecret}
	a1 := enqueue(t, o, store, RefreshFailing, "a")
	o.Run(store, target)
	if got := <-arrived; !strings.Contains(got, a1.ID) {
		t.Fatalf("first request %s, want a1", got)
	}
	a2 := enqueue(t, o, store, NeedsReauth, "a")
	b1 := enqueue(t, o, store, NeedsReauth, "b")
	o.Run(store, target)
	// b's event goes while a1 is in flight; a2 does not.
	if got := <-arrived; !strings.Contains(got, b1.ID) {
		t.Fatalf("second request %s, want b1 (a2 must wait for a1)", got)
	}
	releaseOnce.Do(func() { close(release) })
	if got := <-arrived; !strings.Contains(got, a2.ID) {
		t.Fatalf("third request %s, want a2", got)
	}
	o.Wait()
	if f := o.Figures(); f.Delivered != 3 || f.Pending != 0 || len(arrived) != 0 {
		t.Errorf("figures %+v, %d more requests: want exactly 3 delivered", f, len(arrived))
	}
}

// Under load from several goroutines at once (each an account's writer,
// with Run after each event, as the plugin calls them), every event is
// delivered, each account's in order.
func TestConcurrentEnqueueAndRunKeepOrderAndDeliverAll(t *testing.T) {
	clock, store := newFakeClock(), newMemStore()
	rcv := newReceiver(t, func(n int, _ Event) int {
		if n%3 == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	target := Target{URL: rcv.URL, Secret: testSecret}
	o := testOutbox(clock, Options{Workers: 4, Linger: time.Minute, After: func(time.Duration) <-chan time.Time {
		clock.Advance(time.Minute) // a waited retry comes due at once
		ch := make(chan time.Time, 1)
		ch <- clock.Now()
		return ch
	}})
	defer o.Close()
	const accounts, perAccount = 6, 30
	order := make([][]string, accounts)
	var wg sync.WaitGroup
	for a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perAccount {
				ev, err := o.Enqueue(context.Background(), store, Event{Type: NeedsReauth, Account: fmt.Sprint("acct", a), Status: "needs_reauth"})
				if err != nil {
					t.Error(err)
					return
				}
				order[a] = append(order[a], ev.ID)
				o.Run(store, target)
			}
		}()
	}
	wg.Wait()
	for i := 0; o.Figures().Pending > 0; i++ {
		if i > 200 {
			t.Fatalf("still %+v", o.Figures())
		}
		clock.Advance(time.Hour)
		runOnce(o, store, target)
	}
	o.Wait()
	accepted := map[string][]string{}
	for _, d := range rcv.deliveries() {
		if d.status == http.StatusOK {
			accepted[d.event.Account] = append(accepted[d.event.Account], d.event.ID)
		}
	}
	for a := range accounts {
		if got := accepted[fmt.Sprint("acct", a)]; !slices.Equal(got, order[a]) {
			t.Errorf("acct%d: accepted %d events %v, want %d in order %v", a, len(got), got, len(order[a]), order[a])
		}
	}
}
