package schedule

import (
	"testing"
	"time"
)

// TestRebuildKeepsChangesMadeWhileItRead: a rebuild reads storage while
// writes go on. What it read may predate them; the journal must win.
func TestRebuildKeepsChangesMadeWhileItRead(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	old := Account{IssuedAt: now.Add(-40 * 24 * time.Hour), ExpiresAt: now.Add(20 * 24 * time.Hour), Status: StatusValid}
	fresh := Account{IssuedAt: now, ExpiresAt: now.Add(tokenLifetime), Status: StatusValid}

	s := NewQueue(testWindow)
	s.BeginRebuild()
	// While the rebuild reads: "a" is refreshed, "b" deleted, "c" registered,
	// and the refresh window changes.
	s.Set("a", fresh)
	s.Remove("b")
	s.Set("c", fresh)
	s.Reschedule(10 * 24 * time.Hour)
	// What the rebuild read predates all of that.
	s.Replace(testWindow, []Record{{Name: "a", Account: old}, {Name: "b", Account: old}}, now)

	if got, want := s.DueTime("a"), fresh.DueAt(10*24*time.Hour); !got.Equal(want) {
		t.Fatalf("a due %v, want %v (its refresh during the rebuild)", got, want)
	}
	if s.hasForTest("b") {
		t.Fatal("b, deleted during the rebuild, came back")
	}
	if s.DueTime("c").IsZero() {
		t.Fatal("c, registered during the rebuild, is not scheduled")
	}
	if s.window != 10*24*time.Hour {
		t.Fatalf("window = %v, want the one config set during the rebuild", s.window)
	}
	// The journal is over: later changes apply once, directly.
	if s.journal.on || len(s.journal.entries) != 0 {
		t.Fatal("journal left open")
	}
}

func TestRebuildAbortDropsJournal(t *testing.T) {
	s := NewQueue(testWindow)
	s.Set("a", Account{RegisteredAt: time.Now(), Status: StatusValid})
	s.BeginRebuild()
	s.Remove("a")
	s.AbortRebuild()
	if s.hasForTest("a") {
		t.Fatal("a remove during an aborted rebuild was not applied")
	}
	if s.journal.on {
		t.Fatal("journal left open")
	}
}

// TestPutBackNeverRequeuesInThePast (issue 13, finding 2): an
// account the periodic work took up and left alone goes back at its due
// time, or, when that is not after now, stays leased: it is not handed out
// again by the next tick without something written to it.
func TestPutBackNeverRequeuesInThePast(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := NewQueue(testWindow)
	future := Account{IssuedAt: now.Add(-10 * 24 * time.Hour), ExpiresAt: now.Add(50 * 24 * time.Hour), CheckedAt: now, Status: StatusValid}
	past := Account{IssuedAt: now.Add(-59 * 24 * time.Hour), ExpiresAt: now.Add(-time.Hour), Status: StatusValid}
	s.Set("future", future)
	s.Set("past", past)
	if got := s.ClaimDue(now, 10, time.Minute); len(got) != 1 || got[0].Name != "past" {
		t.Fatalf("claimed %v", got)
	}
	s.PutBack("past", past, now, 10*time.Minute)
	s.PutBack("future", future, now, 10*time.Minute)
	if got := s.DueTime("past"); !got.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("past put back at %v, want the lease's end", got)
	}
	if got, want := s.DueTime("future"), future.DueAt(s.window); !got.Equal(want) {
		t.Fatalf("future put back at %v, want %v", got, want)
	}
	if got := s.ClaimDue(now.Add(time.Minute), 10, time.Minute); len(got) != 0 {
		t.Fatalf("handed out again a minute later: %v", got)
	}
}
