package schedule

import (
	"slices"
	"time"
)

const (
	// testWindow is the engine's default refresh window, tokenLifetime an
	// Instagram long-lived token's life.
	testWindow    = 30 * 24 * time.Hour
	tokenLifetime = 60 * 24 * time.Hour
)

// accountsForTest is every entry's Account (without scopes), by name.
func (q *Queue) accountsForTest() map[string]Account {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.accountsLockedForTest()
}

// accountsLockedForTest is accountsForTest for a caller holding mu.
func (q *Queue) accountsLockedForTest() map[string]Account {
	out := map[string]Account{}
	q.eachLocked(func(e *entry) { out[e.name] = q.accountLocked(e) })
	return out
}

// hasForTest reports whether name has an entry.
func (q *Queue) hasForTest(name string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.lookupLocked(name)
	return ok
}

// recordsOf is accounts as a rebuild reads them.
func recordsOf(accounts map[string]Account) []Record {
	recs := make([]Record, 0, len(accounts))
	for name, a := range accounts {
		recs = append(recs, Record{Name: name, Account: a})
	}
	return recs
}

// lacksAny reports whether granted (known: not empty) misses one of wanted,
// the way the plugin reports an account's missing_scopes.
func lacksAny(granted, wanted []string) bool {
	if len(granted) == 0 {
		return false
	}
	for _, w := range wanted {
		if !slices.Contains(granted, w) {
			return true
		}
	}
	return false
}
