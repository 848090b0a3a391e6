//go:build ha

package ha

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The single-server crash: one persistent Vault server (Raft storage on
// disk, initialised and unsealed by the test), no standby to take over.
const (
	// restartDue is how many due accounts the crash interrupts.
	restartDue = 12
	// restartPass refreshes are answered and stored before the crash;
	// Meta answers restartLost more whose answers never arrive; with the
	// default refresh_concurrency of 4 the other two workers wait at
	// Meta's door and the rest are not yet sent.
	restartPass = 4
	restartLost = 2
)

// TestServerKilledMidRefreshRestarts kills a lone Vault server with SIGKILL
// in the middle of a periodic run, restarts it on the same storage and
// unseals it. No account may be lost; each serves the newest token Meta
// issued for it or, where the refresh was interrupted, the token it had,
// which Meta still accepts; and the restarted server's schedule takes the
// interrupted work over, refreshing each account still due once, the ones
// whose answer was lost included.
func TestServerKilledMidRefreshRestarts(t *testing.T) {
	w := newWorld(t, "single", 1)
	c := w.c
	srv := c.active(30 * time.Second)
	w.configure(srv, srv.addr+"/v1/"+mountPath+"/callback")

	// One account nowhere near due, and a batch that is.
	w.registerLongLived(srv, "steady", 0, time.Now().Add(-time.Hour).Truncate(time.Second))
	w.meta.holdRefreshesAfter(restartPass, restartLost)
	batch := w.registerDueBatch("r", restartDue)
	passed := w.waitForHeldRun(batch, restartPass, restartLost)

	killedAt := time.Now()
	lostAnswers := w.killMidRefresh(srv, batch, restartLost)
	t.Logf("%d of %d accounts of the batch were stored before", len(passed), len(batch))

	srv.restart()
	srv = c.active(60 * time.Second)
	t.Logf("restarted and unsealed %s after the crash", time.Since(killedAt).Round(100*time.Millisecond))

	// No account lost: the list is the registered set, and each serves a
	// token Meta accepts.
	s, err := srv.client.Logical().List(mountPath + "/accounts")
	if err != nil || s == nil {
		c.fatalf("list accounts after the restart: %v", err)
	}
	var listed []string
	for _, k := range s.Data["keys"].([]any) {
		listed = append(listed, k.(string))
	}
	want := slices.Clone(w.names)
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("accounts after the restart: %v, want %v", listed, want)
	}
	w.assertLostAnswersKeptValidTokens(srv, lostAnswers)
	for _, name := range w.names {
		got := w.tokenOn(srv, name)
		if got == w.currentToken(name) || slices.Contains(lostAnswers, name) {
			continue
		}
		if st, ok := w.meta.TokenInfo(got); !ok || st.Revoked || !st.ExpiresAt.After(time.Now()) {
			t.Errorf("token/%s after the restart is a token Meta does not accept", name)
		}
	}

	// The schedule resumes: rebuilt from storage, then every account still
	// due is refreshed by the restarted server's periodic function.
	c.waitFor(30*time.Second, "the schedule to be rebuilt from storage", func() (bool, string) {
		got := toInt64(w.status(srv)["accounts_total"])
		return got == int64(len(w.names)), fmt.Sprintf("accounts_total %d of %d", got, len(w.names))
	})
	c.waitFor(periodicWait, "the restarted server to refresh the rest of the batch", func() (bool, string) {
		done := w.refreshedAsWanted(batch)
		return len(done) == len(batch), fmt.Sprintf("%d of %d refreshed as often as wanted at Meta", len(done), len(batch))
	})
	t.Logf("every account of the batch refreshed %s after the crash", time.Since(killedAt).Round(time.Second))
	w.waitForCurrentTokens(w.names, 30*time.Second)
	w.assertRefreshCounts(w.names)
	for _, name := range w.names {
		w.assertAccountHealthy(srv, name)
	}
}
