package instagram

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestPendingStatesAreCapped: whoever may write auth-url (the onboarding
// policy) cannot store pending states without end: past config's
// max_pending_states (10,000 by default) auth-url answers 429 saying what
// to do, and stores nothing. A state used, or a restart, keeps the count
// right.
func TestPendingStatesAreCapped(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	if got := e.mustOK(e.read("config")).Data["max_pending_states"]; got != 10000 {
		t.Fatalf("max_pending_states = %v, want 10000 by default", got)
	}
	for _, bad := range []any{0, -1, 1000001, "many"} {
		e.assertConfigRefused(t, map[string]any{"max_pending_states": bad}, "max_pending_states")
	}
	e.mustOK(e.write("config", map[string]any{"max_pending_states": 3}))
	refused := func() {
		t.Helper()
		before := e.listStates()
		resp, err := e.write("auth-url", map[string]any{"account": "extra"})
		if got := httpStatus(resp, err); got != http.StatusTooManyRequests {
			t.Fatalf("auth-url past the cap answered %d (%v, %v), want 429", got, resp, err)
		}
		if msg := fmt.Sprint(err, resp); !strings.Contains(msg, "max_pending_states") || !strings.Contains(msg, "state_ttl") {
			t.Errorf("the refusal does not say what to do: %s", msg)
		}
		if after := e.listStates(); !reflect.DeepEqual(slices.Sorted(slices.Values(after)), slices.Sorted(slices.Values(before))) {
			t.Error("a refused auth-url stored a state")
		}
	}
	_, first := e.authURL(map[string]any{"account": "a1"})
	u2, _ := e.authURL(map[string]any{"account": "a2"})
	e.authURL(map[string]any{"account": "a3"})
	refused()
	_ = first

	// The owner of a2 uses their link: room for one more.
	e.meta.AddUser("a2_user")
	e.callback(logical.ReadOperation, e.authorizeAtFake(u2, map[string][]string{"fake_user": {"a2_user"}})).expect(t, http.StatusOK)
	e.authURL(map[string]any{"account": "a4"})
	refused()

	// A restart (or a failover) counts what storage holds.
	e.restart()
	refused()
	e.mustOK(e.write("config", map[string]any{"max_pending_states": 4}))
	e.authURL(map[string]any{"account": "a5"})
	refused()
}

// TestPendingStateCapHoldsUnderConcurrency: auth-url calls racing at the
// cap store exactly as many states as it allows.
func TestPendingStateCapHoldsUnderConcurrency(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"max_pending_states": 5})
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for i := range 20 {
		wg.Go(func() {
			resp, err := e.write("auth-url", map[string]any{"account": fmt.Sprintf("acct%d", i)})
			if err == nil && resp != nil && !resp.IsError() {
				mu.Lock()
				ok++
				e.secrets = append(e.secrets, resp.Data["state"].(string))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 5 || len(e.listStates()) != 5 {
		t.Fatalf("%d auth-url calls succeeded and %d states are stored, want 5 and 5", ok, len(e.listStates()))
	}
}

// TestStateSweepIsBoundedAndAfterRefreshes: expired states are deleted a
// bounded number per periodic run, run after run, and only once the run's
// refreshes are done: a backlog of states delays no refresh.
func TestStateSweepIsBoundedAndAfterRefreshes(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	const n = 600
	for i := range n {
		e.authURL(map[string]any{"account": fmt.Sprintf("s%04d", i)})
	}
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour)) // due
	e.clock.Advance(defaultStateTTL + time.Minute)

	rec := &recordingStorage{Storage: e.storage}
	counter := &prefixOpCounter{Storage: rec, prefix: stateStoragePrefix}
	e.useStorage(counter)
	e.tick()
	ops, _ := rec.take()
	refreshed := slices.IndexFunc(ops, func(op string) bool { return op == "put accounts/shop" })
	swept := slices.IndexFunc(ops, func(op string) bool { return strings.HasPrefix(op, "delete "+stateStoragePrefix) })
	if refreshed < 0 || swept < 0 || swept < refreshed {
		t.Fatalf("the run refreshed at op %d and first deleted a state at op %d, want the refresh first", refreshed, swept)
	}
	if e.account("shop").LastRefreshedAt.IsZero() {
		t.Fatal("the due account was not refreshed")
	}
	runs := 1
	for ; len(e.listStates()) > 0 && runs < 20; runs++ {
		if got := counter.count(); got > 2*maxRecordSweep {
			t.Fatalf("one periodic run made %d storage calls on states, want at most %d", got, 2*maxRecordSweep)
		}
		counter.reset()
		e.tick()
	}
	if runs < n/maxRecordSweep || runs >= 20 {
		t.Errorf("the backlog took %d runs, want about %d", runs, n/maxRecordSweep+1)
	}
	// With nothing pending, a run does not even list states.
	counter.reset()
	e.clock.Advance(stateSweepEvery)
	lister := &listCounter{Storage: counter}
	e.useStorage(lister)
	e.tick()
	if lister.lists(stateStoragePrefix) != 0 {
		t.Error("a run listed states with none pending")
	}
	// And the count is right: the cap's room is all there.
	e.mustOK(e.write("config", map[string]any{"max_pending_states": 1}))
	e.authURL(map[string]any{"account": "after"})
}

// listCounter counts List calls by prefix.
type listCounter struct {
	logical.Storage
	mu sync.Mutex
	n  map[string]int
}

func (l *listCounter) List(ctx context.Context, prefix string) ([]string, error) {
	l.mu.Lock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[prefix]++
	l.mu.Unlock()
	return l.Storage.List(ctx, prefix)
}

func (l *listCounter) lists(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[prefix]
}
