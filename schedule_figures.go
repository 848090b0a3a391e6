package instagram

import (
	"container/heap"
	"time"

	"github.com/google/btree"
)

// scheduleFigures are the aggregates status and metrics report, kept up to
// date as the schedule's entries change (set, remove, replace) so that a
// scrape costs O(statuses), not O(accounts), and never reads storage. The
// schedule's mutex guards them.
type scheduleFigures struct {
	byStatus map[string]int
	// codes are the schedule's: entries hold their status as a code.
	codes *stringCodes

	// expiry holds the accounts whose token is usable (anything but
	// needs_reauth) and has a known expiry, soonest first: its root is
	// vault_instagram_token_expiry_seconds_min.
	expiry expiryHeap

	// scopes numbers the scope names seen so an entry keeps its granted
	// scopes as a bit set (8 bytes, not the names); wanted is config's
	// scopes in those bits; missing counts the accounts with known scopes
	// that lack one of them.
	scopes  scopeTable
	wanted  uint64
	missing int
}

// allStatuses are the statuses an account can have, so that every one is
// reported, 0 included.
var allStatuses = []string{statusValid, statusExpiring, statusRefreshFailing, statusNeedsReauth}

func newScheduleFigures(codes *stringCodes) scheduleFigures {
	f := scheduleFigures{byStatus: make(map[string]int, len(allStatuses)), codes: codes, scopes: scopeTable{bits: map[string]uint64{}}}
	for _, st := range allStatuses {
		f.byStatus[st] = 0
	}
	return f
}

// usable reports whether a timing's token is still served, and so whether
// its expiry counts for the soonest expiry.
func (t timing) usable() bool {
	return t.status != statusNeedsReauth && !t.expiresAt.IsZero()
}

// add counts e, whose timing (and scopeBits) is current.
func (f *scheduleFigures) add(e *schedEntry) {
	f.byStatus[f.codes.str(e.status)]++
	if e.usable() {
		heap.Push(&f.expiry, e)
	}
	if f.lacksWanted(e) {
		f.missing++
	}
}

// drop uncounts e, before its timing changes or it goes.
func (f *scheduleFigures) drop(e *schedEntry) {
	status := f.codes.str(e.status)
	if f.byStatus[status]--; f.byStatus[status] <= 0 && !isKnownStatus(status) {
		delete(f.byStatus, status)
	}
	if e.expIndex >= 0 {
		heap.Remove(&f.expiry, int(e.expIndex))
	}
	if f.lacksWanted(e) {
		f.missing--
	}
}

func isKnownStatus(st string) bool {
	for _, s := range allStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// rebuild recounts everything from entries (after a replace).
func (f *scheduleFigures) rebuild(entries *btree.BTreeG[*schedEntry]) {
	scopes, wanted := f.scopes, f.wanted
	*f = newScheduleFigures(f.codes)
	f.scopes, f.wanted = scopes, wanted
	f.expiry = make(expiryHeap, 0, entries.Len())
	entries.Ascend(func(e *schedEntry) bool {
		f.byStatus[f.codes.str(e.status)]++
		e.expIndex = -1
		if e.usable() {
			e.expIndex = int32(len(f.expiry))
			f.expiry = append(f.expiry, e)
		}
		if f.lacksWanted(e) {
			f.missing++
		}
		return true
	})
	heap.Init(&f.expiry)
}

// lacksWanted reports whether e's account was granted scopes (known) and
// misses one config asks for. An account registered with a bare long-lived
// token has no known scopes and is not counted: nothing says it lacks any.
func (f *scheduleFigures) lacksWanted(e *schedEntry) bool {
	return e.scopesKnown && f.wanted != 0 && e.scopeBits&f.wanted != f.wanted
}

// setWanted makes scopes the configured ones and recounts the accounts
// missing one (O(accounts), on a config change only).
func (f *scheduleFigures) setWanted(scopes []string, entries *btree.BTreeG[*schedEntry]) {
	wanted, _ := f.scopes.mask(scopes)
	if wanted == f.wanted {
		return
	}
	f.wanted = wanted
	f.missing = 0
	entries.Ascend(func(e *schedEntry) bool {
		if f.lacksWanted(e) {
			f.missing++
		}
		return true
	})
}

// scopeTable numbers scope names, one bit each. Meta has a few dozen
// permissions; past 64 distinct names the rest are not tracked (a granted
// one is ignored, a configured one cannot be checked), which undercounts
// rather than reporting drift that may not be there.
type scopeTable struct {
	bits map[string]uint64
}

func (s *scopeTable) mask(scopes []string) (m uint64, known bool) {
	for _, name := range scopes {
		bit, ok := s.bits[name]
		if !ok && len(s.bits) < 64 {
			bit = 1 << uint(len(s.bits))
			s.bits[name] = bit
		}
		m |= bit
	}
	return m, len(scopes) > 0
}

// expiryHeap orders entries by their token's expiry, soonest first.
type expiryHeap []*schedEntry

func (h expiryHeap) Len() int { return len(h) }
func (h expiryHeap) Less(i, j int) bool {
	return h[i].expiresAt < h[j].expiresAt
}
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].expIndex = int32(i)
	h[j].expIndex = int32(j)
}
func (h *expiryHeap) Push(x any) {
	e := x.(*schedEntry)
	e.expIndex = int32(len(*h))
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.expIndex = -1
	*h = old[:n-1]
	return e
}

// figuresSnapshot is a copy of the figures, taken under the schedule's lock.
type figuresSnapshot struct {
	byStatus      map[string]int
	total         int
	soonestExpiry time.Time // zero: no usable token with a known expiry
	missingScopes int
	ready         bool // built from storage at least once
	nextDue       time.Time
	nextName      string
}

// figures returns the current figures: O(statuses).
func (s *schedule) figures() figuresSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := figuresSnapshot{
		byStatus:      make(map[string]int, len(s.figs.byStatus)),
		total:         s.byName.Len(),
		missingScopes: s.figs.missing,
		ready:         s.built,
	}
	for st, n := range s.figs.byStatus {
		snap.byStatus[st] = n
	}
	if len(s.figs.expiry) > 0 {
		snap.soonestExpiry = unpackTime(s.figs.expiry[0].expiresAt)
	}
	if len(s.queue) > 0 {
		snap.nextDue = unpackTime(s.queue[0].at)
		snap.nextName = s.queue[0].name
	}
	return snap
}

// setWantedScopes tells the schedule config's scopes, for the count of
// accounts missing one.
func (s *schedule) setWantedScopes(scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.figs.setWanted(scopes, s.byName)
}

// accountFigure is one account's line in the per-account metrics.
type accountFigure struct {
	name          string
	status        string
	expiresAt     time.Time
	missingScopes bool
}

// eachAccount calls fn for every account, in no order, under the
// schedule's lock: O(accounts), for the per-account metrics an operator
// asks for explicitly. fn must not call back into the schedule.
func (s *schedule) eachAccount(fn func(accountFigure)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eachLocked(func(e *schedEntry) {
		fn(accountFigure{
			name:          e.name,
			status:        s.codes.str(e.status),
			expiresAt:     unpackTime(e.expiresAt),
			missingScopes: s.figs.lacksWanted(e),
		})
	})
}
