package schedule

// NamesOfUser lists the accounts that may be owned by Meta user userID (the
// caller checks each one's stored ids), and false when the queue cannot say
// because it has not been built from storage yet. Once built it holds every
// account: writes update it as they happen, during later rebuilds too.
// Scanning 100,000 entries in memory takes about 20 ms; reading them from
// storage takes about a second in process and over ten in Vault
// (BenchmarkFindUsersAccounts, BENCHMARKS.md).
func (q *Queue) NamesOfUser(userID string) ([]string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.built {
		return nil, false
	}
	h := OwnerHash(userID)
	var names []string
	if h == 0 {
		return names, true
	}
	q.eachLocked(func(e *entry) {
		if e.owners[0] == h || e.owners[1] == h {
			names = append(names, e.name)
		}
	})
	return names, true
}

// NamesAfter returns, in name order, up to limit account names that sort
// after after ("": from the first), and whether more follow; built is false
// when the queue cannot say because it has not been built from storage
// yet. Once built it holds every stored account (see NamesOfUser), and
// perhaps a name whose account is not stored: unverified lists the
// positions in names of those the queue has not confirmed since a crash or
// a failed write (entry.unverified), for the caller to check.
func (q *Queue) NamesAfter(after string, limit int) (names []string, unverified []int, more, built bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.built {
		return nil, nil, false, false
	}
	names, unverified, more = pageLocked(q.byName, after, limit, nil)
	return names, unverified, more, true
}
