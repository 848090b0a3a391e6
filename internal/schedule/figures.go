package schedule

import (
	"container/heap"
	"math/bits"
	"slices"
	"time"

	"github.com/google/btree"
)

// figures are the aggregates status and metrics report, kept up to date as
// the queue's entries change (Set, Remove, Replace) so that a scrape costs
// O(statuses), not O(accounts), and never reads storage. The queue's mutex
// guards them.
type figures struct {
	byStatus map[string]int
	// names lists the entries of each status but valid in name order
	// (bystatus.go), for LIST accounts/ by status.
	names statusNames
	// codes are the queue's: entries hold their status as a code.
	codes *stringCodes

	// expiry holds the accounts whose token is usable (anything but
	// needs_reauth) and has a known expiry, soonest first: its root is
	// vault_instagram_token_expiry_seconds_min.
	expiry entryHeap[byExpiry]

	// scopes numbers the scope names seen so an entry keeps its granted
	// scopes as a bit set (8 bytes, not the names); wanted is config's
	// scopes in those bits; missing counts the accounts with known scopes
	// that lack one of them.
	scopes  scopeTable
	wanted  uint64
	missing int
}

// AllStatuses are the statuses an account can have, so that every one is
// reported, 0 included.
var AllStatuses = []string{StatusValid, StatusExpiring, StatusRefreshFailing, StatusNeedsReauth}

func newFigures(codes *stringCodes) figures {
	f := figures{byStatus: make(map[string]int, len(AllStatuses)), names: statusNames{}, codes: codes, scopes: scopeTable{bits: map[string]uint64{}}}
	for _, st := range AllStatuses {
		f.byStatus[st] = 0
	}
	return f
}

// add counts e, whose Account (and scopeBits) is current.
func (f *figures) add(e *entry) {
	f.byStatus[f.codes.str(e.status)]++
	f.names.add(e)
	if e.usable() {
		heap.Push(&f.expiry, e)
	}
	if f.lacksWanted(e) {
		f.missing++
	}
}

// drop uncounts e, before its Account changes or it goes.
func (f *figures) drop(e *entry) {
	status := f.codes.str(e.status)
	if f.byStatus[status]--; f.byStatus[status] <= 0 && !slices.Contains(AllStatuses, status) {
		delete(f.byStatus, status)
	}
	f.names.drop(e)
	f.expiry.remove(e)
	if f.lacksWanted(e) {
		f.missing--
	}
}

// rebuild recounts everything from entries (after a Replace).
func (f *figures) rebuild(entries *btree.BTreeG[*entry]) {
	scopes, wanted := f.scopes, f.wanted
	*f = newFigures(f.codes)
	f.scopes, f.wanted = scopes, wanted
	f.expiry = make(entryHeap[byExpiry], 0, entries.Len())
	entries.Ascend(func(e *entry) bool {
		f.byStatus[f.codes.str(e.status)]++
		f.names.add(e)
		e.expIndex = -1
		if e.usable() {
			f.expiry.appendUnordered(e)
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
func (f *figures) lacksWanted(e *entry) bool {
	return e.scopesKnown && f.wanted != 0 && e.scopeBits&f.wanted != f.wanted
}

// setWanted makes scopes the configured ones and recounts the accounts
// missing one (O(accounts), on a config change only).
func (f *figures) setWanted(scopes []string, entries *btree.BTreeG[*entry]) {
	wanted, _ := f.scopes.mask(scopes)
	if wanted == f.wanted {
		return
	}
	f.wanted = wanted
	f.missing = 0
	entries.Ascend(func(e *entry) bool {
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

// byBit is the table by bit: the name of each bit, "" for a bit not in use.
func (s *scopeTable) byBit() []string {
	names := make([]string, 64)
	for name, bit := range s.bits {
		names[bits.TrailingZeros64(bit)] = name
	}
	return names
}

// Figures is a copy of the figures, taken under the queue's lock.
type Figures struct {
	ByStatus      map[string]int
	Total         int
	SoonestExpiry time.Time // zero: no usable token with a known expiry
	MissingScopes int
	Ready         bool // built from storage at least once
	NextDue       time.Time
	NextName      string
}

// Figures returns the current figures: O(statuses).
func (q *Queue) Figures() Figures {
	q.mu.Lock()
	defer q.mu.Unlock()
	snap := Figures{
		ByStatus:      make(map[string]int, len(q.figs.byStatus)),
		Total:         q.byName.Len(),
		MissingScopes: q.figs.missing,
		Ready:         q.built,
	}
	for st, n := range q.figs.byStatus {
		snap.ByStatus[st] = n
	}
	if len(q.figs.expiry) > 0 {
		snap.SoonestExpiry = unpackTime(q.figs.expiry[0].expiresAt)
	}
	if len(q.due) > 0 {
		snap.NextDue = unpackTime(q.due[0].at)
		snap.NextName = q.due[0].name
	}
	return snap
}

// SetWantedScopes tells the queue config's scopes, for the count of
// accounts missing one.
func (q *Queue) SetWantedScopes(scopes []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.figs.setWanted(scopes, q.byName)
}
