package schedule

import "github.com/google/btree"

// statusNames lists, in name order, the entries of each status but valid:
// the accounts a person has to look at (needs_reauth, refresh_failing,
// expiring), so that a page of LIST accounts/ filtered by one of those
// costs O(log n + page) however many valid accounts surround them. Valid
// accounts, nearly all of them in a healthy mount, get no tree of their
// own: that would be a second name tree of every account (about 20 bytes
// an account, BENCHMARKS.md); a page of them walks the name tree and skips
// the others (NamesWithStatusAfter). The figures keep it (add, drop,
// rebuild), under the queue's mutex.
type statusNames map[uint8]*btree.BTreeG[*entry]

// codeValid is StatusValid's code (newStringCodes checks it).
const codeValid = 1

func (s statusNames) add(e *entry) {
	if e.status == codeValid {
		return
	}
	t := s[e.status]
	if t == nil {
		t = newNameTree()
		s[e.status] = t
	}
	t.ReplaceOrInsert(e)
}

func (s statusNames) drop(e *entry) {
	if t := s[e.status]; t != nil {
		t.Delete(e)
		if t.Len() == 0 {
			delete(s, e.status) // an app-wide revocation's tree goes with it
		}
	}
}

// NamesWithStatusAfter is NamesAfter among the accounts whose status is
// status (one of AllStatuses; any other has none). A page of valid accounts
// skips the others one by one, so it costs more only while many accounts
// are not valid.
func (q *Queue) NamesWithStatusAfter(status, after string, limit int) (names []string, unverified []int, more, built bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.built {
		return nil, nil, false, false
	}
	code, known := q.codes.code[status]
	switch {
	case !known:
		return []string{}, nil, false, true
	case code == codeValid:
		names, unverified, more = pageLocked(q.byName, after, limit, func(e *entry) bool { return e.status == codeValid })
	case q.figs.names[code] == nil:
		return []string{}, nil, false, true
	default:
		names, unverified, more = pageLocked(q.figs.names[code], after, limit, nil)
	}
	return names, unverified, more, true
}

// pageLocked returns, in name order, up to limit names from tree that sort
// after after and that keep (nil: all) accepts, whether more follow, and
// the positions of unverified entries among them. Caller holds mu.
func pageLocked(tree *btree.BTreeG[*entry], after string, limit int, keep func(*entry) bool) (names []string, unverified []int, more bool) {
	names = make([]string, 0, min(limit, tree.Len()))
	tree.AscendGreaterOrEqual(&entry{name: after}, func(e *entry) bool {
		switch {
		case e.name == after || (keep != nil && !keep(e)):
			return true
		case len(names) == limit:
			more = true
			return false
		}
		if e.unverified {
			unverified = append(unverified, len(names))
		}
		names = append(names, e.name)
		return true
	})
	return names, unverified, more
}
