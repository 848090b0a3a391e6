package instagram

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// countingStorage counts successful writes per key, so that a test can tell
// whether the periodic work wrote an account between two of its claims.
type countingStorage struct {
	logical.Storage
	mu   sync.Mutex
	puts map[string]int
}

func newCountingStorage(s logical.Storage) *countingStorage {
	return &countingStorage{Storage: s, puts: map[string]int{}}
}

func (c *countingStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if err := c.Storage.Put(ctx, e); err != nil {
		return err
	}
	c.mu.Lock()
	c.puts[e.Key]++
	c.mu.Unlock()
	return nil
}

func (c *countingStorage) writes(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts[key]
}

// dueNames lists the accounts the schedule hands out at now: what the next
// tick claims (short of the app-wide pause and maxClaimsPerTick, which the
// tests using it never reach).
func dueNames(s *schedule.Queue, now time.Time) []string {
	var out []string
	for after := ""; ; {
		names, _, more, _ := s.NamesAfter(after, 1000)
		for _, name := range names {
			if due := s.DueTime(name); !due.IsZero() && !due.After(now) {
				out = append(out, name)
			}
		}
		if !more {
			return out // in name order
		}
		after = names[len(names)-1]
	}
}

// TestExpiredTokenIsMarkedNeedsReauthNotRetried (issue 13, finding 2): a token
// that expired while nothing could refresh it (Vault sealed for two days) is
// marked needs_reauth by the next periodic run, with a last_error that says
// it expired and when; it leaves the schedule, status counts it, and no
// later tick takes it up again.
func TestExpiredTokenIsMarkedNeedsReauthNotRetried(t *testing.T) {
	e := newTestEnv(t)
	cs := newCountingStorage(e.storage)
	e.storage = cs
	e.configure(nil)
	e.registerLongLived("lapsed", "lapsed_user", e.clock.Now().Add(-59*24*time.Hour))
	e.registerLongLived("fine", "fine_user", e.clock.Now().Add(-10*24*time.Hour))
	expiresAt := e.account("lapsed").ExpiresAt

	e.clock.Advance(2 * 24 * time.Hour)
	e.tick()

	a := e.account("lapsed")
	if a.Status != statusNeedsReauth {
		t.Fatalf("status %s after its token expired, want %s", a.Status, statusNeedsReauth)
	}
	if !strings.Contains(a.LastError, "expired") || !strings.Contains(a.LastError, expiresAt.Format(time.RFC3339)) {
		t.Fatalf("last_error %q does not say the token expired at %s", a.LastError, expiresAt.Format(time.RFC3339))
	}
	if !a.LastErrorAt.Equal(e.clock.Now()) || !a.RetryAt.IsZero() {
		t.Fatalf("last_error_at %v retry_at %v", a.LastErrorAt, a.RetryAt)
	}
	if due := e.b.sched.DueTime("lapsed"); !due.IsZero() {
		t.Fatalf("still scheduled at %v", due)
	}
	if n := e.meta.Calls(graphtest.EndpointRefresh); n != 0 {
		t.Fatalf("%d refresh calls: Meta cannot refresh an expired token", n)
	}
	if !strings.Contains(e.logs.String(), "account needs re-authorization") {
		t.Fatal("the transition was not logged")
	}
	st := e.mustOK(e.read("status"))
	if st.Data["accounts_needs_reauth"] != 1 || st.Data["accounts_valid"] != 1 {
		t.Fatalf("status counts needs_reauth %v valid %v", st.Data["accounts_needs_reauth"], st.Data["accounts_valid"])
	}
	acc := e.mustOK(e.read("accounts/lapsed"))
	if acc.Data["status"] != statusNeedsReauth || acc.Data["next_refresh_at"] != "" {
		t.Fatalf("account read: status %v next_refresh_at %v", acc.Data["status"], acc.Data["next_refresh_at"])
	}

	writes := cs.writes(accountStoragePrefix + "lapsed")
	for range 3 {
		e.clock.Advance(time.Minute)
		if slices.Contains(dueNames(e.b.sched, e.clock.Now()), "lapsed") {
			t.Fatal("the expired account is handed out again")
		}
		e.tick()
	}
	if got := cs.writes(accountStoragePrefix + "lapsed"); got != writes {
		t.Fatalf("%d more writes of an account that needs its owner", got-writes)
	}
}

// TestNoAccountIsClaimedTwiceWithoutAWrite (issue 13, finding 2):
// over two days of one periodic run a minute, with Meta refusing every
// refresh for the first 16 hours (so one token runs out while it is
// retried), Instagram and Facebook Login accounts, daily checks and
// refreshes, no account is handed out by a tick unless something was
// written to it since the last tick that handed it out.
func TestNoAccountIsClaimedTwiceWithoutAWrite(t *testing.T) {
	e := newTestEnv(t)
	cs := newCountingStorage(e.storage)
	e.storage = cs
	e.configure(map[string]any{"login": "facebook"})
	e.registerFacebook("fb", "fb_user", true)
	e.configure(map[string]any{"login": "instagram"})
	now := e.clock.Now()
	e.registerLongLived("runs-out", "runs_out_user", now.Add(-longLivedLifetime+12*time.Hour))
	e.registerLongLived("due", "due_user", now.Add(-55*24*time.Hour))
	e.registerLongLived("later", "later_user", now.Add(-3*24*time.Hour))
	e.registerFromCode("young", "young_user")
	e.meta.Fail(graphtest.EndpointRefresh, -1, graphtest.Failure{Status: 500, Body: "Internal Server Error"})

	claimedAt := map[string]int{} // writes of the account when a tick last handed it out
	claims := map[string]int{}
	for i := range 2 * 24 * 60 {
		if i == 16*60 {
			e.meta.ClearFailures()
		}
		for _, name := range dueNames(e.b.sched, e.clock.Now()) {
			w := cs.writes(accountStoragePrefix + name)
			if last, ok := claimedAt[name]; ok && w == last {
				t.Fatalf("minute %d: %s handed out again with no write since it was last handed out", i, name)
			}
			claimedAt[name] = w
			claims[name]++
		}
		e.tick()
		e.clock.Advance(time.Minute)
	}
	t.Logf("claims per account: %v", claims)

	a := e.account("runs-out")
	if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "expired") {
		t.Fatalf("runs-out: status %s, last error %q", a.Status, a.LastError)
	}
	for _, name := range []string{"due", "later", "young", "fb"} {
		if a := e.account(name); a.Status != statusValid {
			t.Fatalf("%s: %s %q", name, a.Status, a.LastError)
		}
	}
	for _, name := range []string{"due", "later", "young"} {
		e.secrets = append(e.secrets, e.account(name).AccessToken)
	}
}
