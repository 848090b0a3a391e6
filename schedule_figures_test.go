package instagram

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// bruteFigures recomputes the schedule's figures from its entries, the way
// a scrape would without incremental figures.
func bruteFigures(s *schedule, grantedOf map[string][]string, wanted []string) (byStatus map[string]int, soonest time.Time, missing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byStatus = map[string]int{}
	for _, st := range allStatuses {
		byStatus[st] = 0
	}
	want := map[string]bool{}
	for _, w := range wanted {
		want[w] = true
	}
	timings := s.timingsLockedForTest()
	for _, tm := range timings {
		byStatus[tm.status]++
		if tm.usable() && (soonest.IsZero() || tm.expiresAt.Before(soonest)) {
			soonest = tm.expiresAt
		}
	}
	for name := range timings {
		if granted := grantedOf[name]; len(granted) > 0 && len(missingScopes(granted, wanted)) > 0 {
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
	randomTiming := func() timing {
		t := timing{registeredAt: now, status: allStatuses[rng.IntN(len(allStatuses))], scopes: randomScopes()}
		if rng.IntN(4) != 0 {
			t.expiresAt = now.Add(time.Duration(rng.IntN(60*24)-24) * time.Hour)
		}
		return t
	}

	s := newSchedule()
	// grantedOf remembers the scopes each entry was last set with (the
	// schedule keeps bits only).
	grantedOf := map[string][]string{}
	wanted := []string{"instagram_business_basic"}
	s.setWantedScopes(wanted)
	for step := range 5000 {
		name := fmt.Sprintf("a%d", rng.IntN(200))
		switch op := rng.IntN(20); {
		case op < 12:
			tm := randomTiming()
			grantedOf[name] = tm.scopes
			s.set(name, tm)
		case op < 16:
			delete(grantedOf, name)
			s.remove(name)
		case op < 17:
			wanted = randomScopes()
			s.setWantedScopes(wanted)
		case op < 18:
			// A rebuild that reads what is stored, while writes go on.
			s.beginRebuild()
			read := map[string]timing{}
			for n, g := range grantedOf {
				read[n] = timing{registeredAt: now, status: statusValid, scopes: g, expiresAt: now.Add(time.Hour)}
			}
			tm := randomTiming()
			grantedOf[name] = tm.scopes
			s.set(name, tm) // journaled: it wins over what was read
			s.replace(defaultRefreshWindow, recordsOf(read), now)
		default:
			s.reschedule(time.Duration(1+rng.IntN(30)) * 24 * time.Hour)
		}

		byStatus, soonest, missing := bruteFigures(s, grantedOf, wanted)
		f := s.figures()
		for st, n := range byStatus {
			if f.byStatus[st] != n {
				t.Fatalf("step %d: %s = %d, recount %d", step, st, f.byStatus[st], n)
			}
		}
		if !f.soonestExpiry.Equal(soonest) {
			t.Fatalf("step %d: soonest expiry %v, recount %v", step, f.soonestExpiry, soonest)
		}
		if f.missingScopes != missing {
			t.Fatalf("step %d: missing scopes %d, recount %d", step, f.missingScopes, missing)
		}
		if f.total != len(grantedOf) {
			t.Fatalf("step %d: %d accounts, want %d", step, f.total, len(grantedOf))
		}
	}
}

// TestScopeTableOverflowUndercounts: past 64 scope names, the rest are not
// tracked, and an account is never reported missing a scope it has.
func TestScopeTableOverflowUndercounts(t *testing.T) {
	s := newSchedule()
	var many []string
	for i := range 70 {
		many = append(many, fmt.Sprintf("scope_%d", i))
	}
	s.set("all", timing{status: statusValid, scopes: many})
	s.setWantedScopes(many)
	if got := s.figures().missingScopes; got != 0 {
		t.Fatalf("an account granted every scope counted as missing one (%d)", got)
	}
	s.set("few", timing{status: statusValid, scopes: many[:2]})
	if got := s.figures().missingScopes; got != 1 {
		t.Fatalf("missing = %d, want 1", got)
	}
}
