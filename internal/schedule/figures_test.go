package schedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// bruteFigures recomputes the schedule's figures from its entries, the way
// a scrape would without incremental figures.
func bruteFigures(s *Queue, grantedOf map[string][]string, wanted []string) (byStatus map[string]int, soonest time.Time, missing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byStatus = map[string]int{}
	for _, st := range AllStatuses {
		byStatus[st] = 0
	}
	want := map[string]bool{}
	for _, w := range wanted {
		want[w] = true
	}
	timings := s.accountsLockedForTest()
	for _, tm := range timings {
		byStatus[tm.Status]++
		if tm.Status != StatusNeedsReauth && !tm.ExpiresAt.IsZero() && (soonest.IsZero() || tm.ExpiresAt.Before(soonest)) {
			soonest = tm.ExpiresAt
		}
	}
	for name := range timings {
		if granted := grantedOf[name]; lacksAny(granted, wanted) {
			missing++
		}
	}
	return byStatus, soonest, missing
}

// TestScheduleFiguresMatchARecount: whatever sequence of sets, removes,
// rebuilds (journaled or not) and scope changes, the incremental figures
// equal a recount from scratch.
func TestScheduleFiguresMatchARecount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 14))
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	scopeNames := []string{"instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_messages", "pages_show_list"}
	randomScopes := func() []string {
		var out []string
		for _, s := range scopeNames {
			if rng.IntN(2) == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	randomTiming := func() Account {
		t := Account{RegisteredAt: now, Status: AllStatuses[rng.IntN(len(AllStatuses))], Scopes: randomScopes()}
		if rng.IntN(4) != 0 {
			t.ExpiresAt = now.Add(time.Duration(rng.IntN(60*24)-24) * time.Hour)
		}
		return t
	}

	s := NewQueue(testWindow)
	// grantedOf remembers the scopes each entry was last set with (the
	// schedule keeps bits only).
	grantedOf := map[string][]string{}
	wanted := []string{"instagram_business_basic"}
	s.SetWantedScopes(wanted)
	for step := range 2500 {
		name := fmt.Sprintf("a%d", rng.IntN(200))
		switch op := rng.IntN(20); {
		case op < 12:
			tm := randomTiming()
			grantedOf[name] = tm.Scopes
			s.Set(name, tm)
		case op < 16:
			delete(grantedOf, name)
			s.Remove(name)
		case op < 17:
			wanted = randomScopes()
			s.SetWantedScopes(wanted)
		case op < 18:
			// A rebuild that reads what is stored, while writes go on.
			s.BeginRebuild()
			read := map[string]Account{}
			for n, g := range grantedOf {
				read[n] = Account{RegisteredAt: now, Status: StatusValid, Scopes: g, ExpiresAt: now.Add(time.Hour)}
			}
			tm := randomTiming()
			grantedOf[name] = tm.Scopes
			s.Set(name, tm) // journaled: it wins over what was read
			s.Replace(testWindow, recordsOf(read), now)
		default:
			s.Reschedule(time.Duration(1+rng.IntN(30)) * 24 * time.Hour)
		}

		byStatus, soonest, missing := bruteFigures(s, grantedOf, wanted)
		f := s.Figures()
		for st, n := range byStatus {
			if f.ByStatus[st] != n {
				t.Fatalf("step %d: %s = %d, recount %d", step, st, f.ByStatus[st], n)
			}
		}
		if !f.SoonestExpiry.Equal(soonest) {
			t.Fatalf("step %d: soonest expiry %v, recount %v", step, f.SoonestExpiry, soonest)
		}
		if f.MissingScopes != missing {
			t.Fatalf("step %d: missing scopes %d, recount %d", step, f.MissingScopes, missing)
		}
		if f.Total != len(grantedOf) {
			t.Fatalf("step %d: %d accounts, want %d", step, f.Total, len(grantedOf))
		}
	}
}

// TestScopeTableOverflowUndercounts: past 64 scope names, the rest are not
// tracked, and an account is never reported missing a scope it has.
func TestScopeTableOverflowUndercounts(t *testing.T) {
	s := NewQueue(testWindow)
	var many []string
	for i := range 70 {
		many = append(many, fmt.Sprintf("scope_%d", i))
	}
	s.Set("all", Account{Status: StatusValid, Scopes: many})
	s.SetWantedScopes(many)
	if got := s.Figures().MissingScopes; got != 0 {
		t.Fatalf("an account granted every scope counted as missing one (%d)", got)
	}
	s.Set("few", Account{Status: StatusValid, Scopes: many[:2]})
	if got := s.Figures().MissingScopes; got != 1 {
		t.Fatalf("missing = %d, want 1", got)
	}
}
