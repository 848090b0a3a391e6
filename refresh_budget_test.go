package instagram

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestRunBudgetDoesNotCancelARefreshInFlight (issue 13, finding 8): a
// periodic run's budget limits handing out work, not the work handed out.
// The budget runs out while the run's first refresh is on its way (as the
// call leaves, or once Meta has answered and issued a new token): that
// refresh still completes and its new token is stored, the account is
// scheduled from it rather than left leased for claimLease, and the
// account not yet started waits, still due, for the next run.
func TestRunBudgetDoesNotCancelARefreshInFlight(t *testing.T) {
	for _, when := range []string{"as the call leaves", "after Meta answered"} {
		t.Run(when, func(t *testing.T) {
			var (
				mu        sync.Mutex
				endBudget context.CancelFunc
			)
			hook := &refreshHook{calls: map[string]int{}}
			e := newTestEnvWith(t, backendOptions{
				httpClient: &http.Client{Transport: hook},
				tickBudget: func(ctx context.Context) (context.Context, context.CancelFunc) {
					ctx, cancel := context.WithCancel(ctx)
					mu.Lock()
					endBudget = cancel
					mu.Unlock()
					return ctx, cancel
				},
			})
			e.configure(map[string]any{"refresh_concurrency": 1})
			names := e.registerDue("budget", 2)
			old := map[string]string{}
			for _, name := range names {
				old[name] = e.account(name).AccessToken
			}
			hook.meta = e.meta
			var first string
			end := func(user string) {
				mu.Lock()
				defer mu.Unlock()
				if first == "" {
					first = user
					endBudget()
				}
			}
			if when == "as the call leaves" {
				hook.before = end
			} else {
				hook.after = end
			}

			e.tick()
			now := e.clock.Now()
			if first == "" {
				t.Fatal("no refresh was started")
			}
			started, waiting := names[0], names[1]
			if e.account(started).UserID != first {
				started, waiting = waiting, started
			}
			if n := e.meta.Calls(graphtest.EndpointRefresh); n != 1 {
				t.Fatalf("Meta handled %d refreshes, want the one started before the budget ran out", n)
			}
			a := e.account(started)
			e.secrets = append(e.secrets, a.AccessToken, e.meta.CurrentToken(first))
			if a.AccessToken != e.meta.CurrentToken(first) || a.AccessToken == old[started] ||
				a.Status != statusValid || !a.LastRefreshedAt.Equal(now) {
				t.Fatalf("the token Meta issued was not stored: status %s, new token %v, refreshed at %v, last error %q",
					a.Status, a.AccessToken != old[started], a.LastRefreshedAt, a.LastError)
			}
			window := e.b.sched.Window()
			if got, want := e.b.sched.DueTime(started), a.scheduled().DueAt(window); !got.Equal(want) {
				t.Fatalf("refreshed account scheduled at %v, want %v (still leased?)", got, want)
			}
			if due := e.b.sched.DueTime(waiting); due.IsZero() || due.After(now) {
				t.Fatalf("the account not started is due at %v, not still due", due)
			}
			if w := e.account(waiting); w.AccessToken != old[waiting] || w.Status != statusValid || !w.LastRefreshedAt.IsZero() {
				t.Fatalf("the account not started was touched: %s %q", w.Status, w.LastError)
			}

			// The next run, with its own budget, takes up what waited.
			hook.before, hook.after = nil, nil
			e.clock.Advance(time.Minute)
			e.tick()
			w := e.account(waiting)
			e.secrets = append(e.secrets, w.AccessToken)
			if w.AccessToken == old[waiting] || w.Status != statusValid {
				t.Fatalf("the waiting account was not refreshed by the next run: %s %q", w.Status, w.LastError)
			}
		})
	}
}
