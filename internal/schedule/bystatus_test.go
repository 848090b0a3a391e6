package schedule

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// pageAll follows NamesWithStatusAfter's pages of limit names and returns
// every name listed, failing if a page is not in order or next is wrong.
func pageAll(t *testing.T, q *Queue, status string, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for {
		names, _, more, built := q.NamesWithStatusAfter(status, after, limit)
		if !built {
			t.Fatal("not built")
		}
		if len(names) > limit || (more && len(names) != limit) {
			t.Fatalf("status %s after %q: %d names, more %v, limit %d", status, after, len(names), more, limit)
		}
		all = append(all, names...)
		if !more {
			return all
		}
		after = names[len(names)-1]
	}
}

// TestNamesWithStatusAfterFollowsStatusChanges: a page by status lists, in
// name order, exactly the accounts that have that status now, through
// status changes (Set), removals, unverified entries and a rebuild
// (Replace), for every status, valid included.
func TestNamesWithStatusAfterFollowsStatusChanges(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q := NewQueue(testWindow)
	q.Replace(testWindow, nil, now)
	status := map[string]string{}
	set := func(name, st string) {
		q.Set(name, Account{RegisteredAt: now, IssuedAt: now, ExpiresAt: now.Add(tokenLifetime), Status: st})
		status[name] = st
	}
	want := func(st string) []string {
		var names []string
		q.eachLocked(func(e *entry) { // name order
			if status[e.name] == st {
				names = append(names, e.name)
			}
		})
		if names == nil {
			names = []string{}
		}
		return names
	}
	check := func(when string) {
		t.Helper()
		for _, st := range AllStatuses {
			for _, limit := range []int{1, 2, 1000} {
				got := pageAll(t, q, st, limit)
				if got == nil {
					got = []string{}
				}
				if w := want(st); !reflect.DeepEqual(got, w) {
					t.Fatalf("%s: status %s limit %d: %v, want %v", when, st, limit, got, w)
				}
			}
		}
	}

	for i := range 12 {
		set(fmt.Sprintf("a%02d", i), AllStatuses[i%len(AllStatuses)])
	}
	check("registered")
	set("a00", StatusNeedsReauth) // valid -> needs_reauth
	set("a03", StatusValid)       // needs_reauth -> valid (re-authorized)
	set("a05", StatusRefreshFailing)
	check("status changes")
	q.Remove("a01")
	q.Remove("a07")
	delete(status, "a01")
	delete(status, "a07")
	check("removals")
	q.SetUnverified("z99", Account{RegisteredAt: now, Status: StatusNeedsReauth}, now)
	status["z99"] = StatusNeedsReauth
	check("an unverified entry")

	// A rebuild from records (the index), with a change made while it read.
	recs := []Record{}
	for name, st := range status {
		recs = append(recs, Record{Name: name, Account: Account{RegisteredAt: now, Status: st}, Pending: name == "z99"})
	}
	q.BeginRebuild()
	set("a02", StatusValid)
	q.Replace(testWindow, recs, now)
	check("a rebuild")

	if names, _, more, built := q.NamesWithStatusAfter("no_such_status", "", 10); len(names) != 0 || more || !built {
		t.Fatalf("an unknown status: %v %v %v", names, more, built)
	}
}

// TestNamesWithStatusAfterMarksUnverified: an unverified entry's position
// in the page is reported, as NamesAfter does, for the caller to check
// against storage.
func TestNamesWithStatusAfterMarksUnverified(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	q := NewQueue(testWindow)
	q.Replace(testWindow, []Record{
		{Name: "a", Account: Account{RegisteredAt: now, Status: StatusNeedsReauth}},
		{Name: "b", Account: Account{RegisteredAt: now, Status: StatusValid}},
		{Name: "c", Account: Account{RegisteredAt: now, Status: StatusNeedsReauth}, Pending: true},
		{Name: "d", Account: Account{RegisteredAt: now, Status: StatusValid}, Pending: true},
	}, now)
	names, unverified, _, _ := q.NamesWithStatusAfter(StatusNeedsReauth, "", 10)
	if !reflect.DeepEqual(names, []string{"a", "c"}) || !reflect.DeepEqual(unverified, []int{1}) {
		t.Fatalf("needs_reauth: %v unverified %v", names, unverified)
	}
	names, unverified, _, _ = q.NamesWithStatusAfter(StatusValid, "", 10)
	if !reflect.DeepEqual(names, []string{"b", "d"}) || !reflect.DeepEqual(unverified, []int{1}) {
		t.Fatalf("valid: %v unverified %v", names, unverified)
	}
}

// TestNamesWithStatusAfterNotBuilt: before the queue is built from storage
// it cannot say, as NamesAfter.
func TestNamesWithStatusAfterNotBuilt(t *testing.T) {
	q := NewQueue(testWindow)
	if _, _, _, built := q.NamesWithStatusAfter(StatusNeedsReauth, "", 10); built {
		t.Fatal("built before Replace")
	}
}

// BenchmarkNamesWithStatusAfter: a page of the few needs_reauth accounts
// among many costs what a page costs, not a scan of every account.
func BenchmarkNamesWithStatusAfter(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	recs := memoryRecords(100_000)
	for i := 0; i < len(recs); i += 1000 {
		recs[i].Account.Status = StatusNeedsReauth
	}
	q := NewQueue(testWindow)
	q.Replace(testWindow, recs, now)
	for b.Loop() {
		if names, _, _, _ := q.NamesWithStatusAfter(StatusNeedsReauth, "", 1000); len(names) != 100 {
			b.Fatalf("%d names", len(names))
		}
	}
}
