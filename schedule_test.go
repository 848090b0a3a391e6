package instagram

import (
	"testing"
	"time"
)

// TestRebuildKeepsChangesMadeWhileItRead: a rebuild reads storage while
// writes go on. What it read may predate them; the journal must win.
func TestRebuildKeepsChangesMadeWhileItRead(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	old := timing{issuedAt: now.Add(-40 * 24 * time.Hour), expiresAt: now.Add(20 * 24 * time.Hour), status: statusValid}
	fresh := timing{issuedAt: now, expiresAt: now.Add(longLivedLifetime), status: statusValid}

	s := newSchedule()
	s.beginRebuild()
	// While the rebuild reads: "a" is refreshed, "b" deleted, "c" registered,
	// and the refresh window changes.
	s.set("a", fresh)
	s.remove("b")
	s.set("c", fresh)
	s.reschedule(10 * 24 * time.Hour)
	// What the rebuild read predates all of that.
	s.replace(defaultRefreshWindow, []indexRecord{{name: "a", timing: old}, {name: "b", timing: old}}, now)

	if got, want := s.dueTime("a"), fresh.dueAt(10*24*time.Hour); !got.Equal(want) {
		t.Fatalf("a due %v, want %v (its refresh during the rebuild)", got, want)
	}
	if s.hasForTest("b") {
		t.Fatal("b, deleted during the rebuild, came back")
	}
	if s.dueTime("c").IsZero() {
		t.Fatal("c, registered during the rebuild, is not scheduled")
	}
	if s.window != 10*24*time.Hour {
		t.Fatalf("window = %v, want the one config set during the rebuild", s.window)
	}
	// The journal is over: later changes apply once, directly.
	if s.journaling || len(s.journal) != 0 {
		t.Fatal("journal left open")
	}
}

func TestRebuildAbortDropsJournal(t *testing.T) {
	s := newSchedule()
	s.set("a", timing{registeredAt: time.Now(), status: statusValid})
	s.beginRebuild()
	s.remove("a")
	s.abortRebuild()
	if s.hasForTest("a") {
		t.Fatal("a remove during an aborted rebuild was not applied")
	}
	if s.journaling {
		t.Fatal("journal left open")
	}
}

// TestFinding2PutBackNeverRequeuesInThePast (issue 13, finding 2): an
// account the periodic work took up and left alone goes back at its due
// time, or, when that is not after now, stays leased: it is not handed out
// again by the next tick without something written to it.
func TestFinding2PutBackNeverRequeuesInThePast(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := newSchedule()
	future := timing{issuedAt: now.Add(-10 * 24 * time.Hour), expiresAt: now.Add(50 * 24 * time.Hour), checkedAt: now, status: statusValid}
	past := timing{issuedAt: now.Add(-59 * 24 * time.Hour), expiresAt: now.Add(-time.Hour), status: statusValid}
	s.set("future", future)
	s.set("past", past)
	if got := s.claimDue(now, 10, time.Minute); len(got) != 1 || got[0].name != "past" {
		t.Fatalf("claimed %v", got)
	}
	s.putBack("past", past, now, 10*time.Minute)
	s.putBack("future", future, now, 10*time.Minute)
	if got := s.dueTime("past"); !got.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("past put back at %v, want the lease's end", got)
	}
	if got, want := s.dueTime("future"), future.dueAt(s.window); !got.Equal(want) {
		t.Fatalf("future put back at %v, want %v", got, want)
	}
	if got := s.claimDue(now.Add(time.Minute), 10, time.Minute); len(got) != 0 {
		t.Fatalf("handed out again a minute later: %v", got)
	}
}
