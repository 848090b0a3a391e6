package instagram

import (
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// TestTickWaitsForTheStartupRebuild: until the schedule has been read from
// storage, a periodic run cannot know what is due, and does nothing.
func TestTickWaitsForTheStartupRebuild(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerDue("due", 2)

	e.b.sched = schedule.NewQueue(defaultRefreshWindow) // not built from storage yet
	e.b.rebuildMu.Lock()                                // a start-up rebuild is reading storage
	e.tick()
	if n := e.meta.Calls("refresh"); n != 0 {
		t.Fatalf("%d refreshes before the schedule was built", n)
	}
	e.b.rebuildMu.Unlock()

	e.clock.Advance(time.Minute)
	e.tick()
	if n := e.meta.Calls("refresh"); n != 2 {
		t.Fatalf("%d refreshes once the schedule could be built, want 2", n)
	}
	e.rememberStoredTokens([]string{"due-0", "due-1"})
}
