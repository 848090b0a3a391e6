package schedule

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// urgencyLess is the order MostUrgent promises, spelled out independently:
// needs_reauth, refresh_failing, expiring, valid, then any other status;
// within one, the soonest expiry first (unknown last); then the name.
func urgencyLess(a, b AccountFigure) bool {
	rank := func(s string) int {
		if i := slices.Index([]string{StatusNeedsReauth, StatusRefreshFailing, StatusExpiring, StatusValid}, s); i >= 0 {
			return i
		}
		return 4
	}
	if ra, rb := rank(a.Status), rank(b.Status); ra != rb {
		return ra < rb
	}
	switch {
	case a.ExpiresAt.IsZero() != b.ExpiresAt.IsZero():
		return b.ExpiresAt.IsZero()
	case !a.ExpiresAt.Equal(b.ExpiresAt):
		return a.ExpiresAt.Before(b.ExpiresAt)
	}
	return a.Name < b.Name
}

// TestMostUrgentIsTheTopOfAFullSortBoundedByN: MostUrgent(n) answers
// exactly the first n accounts of the whole schedule sorted by urgency, in
// that order, with the schedule's total, across more accounts than one
// locked chunk of the scan holds, for n below, at and above the total.
func TestMostUrgentIsTheTopOfAFullSortBoundedByN(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := append(slices.Clone(AllStatuses), "some_future_status")
	accounts := map[string]Account{}
	const total = 3*urgentScanChunk + 17
	for i := range total {
		a := Account{Status: statuses[rng.IntN(len(statuses))], Login: LoginInstagram, IssuedAt: now}
		if rng.IntN(10) > 0 { // one in ten has no known expiry
			// Few distinct expiries, so that ties fall back to the name.
			a.ExpiresAt = now.Add(time.Duration(rng.IntN(50)) * 24 * time.Hour)
		}
		accounts[fmt.Sprintf("acct-%05d", rng.IntN(1_000_000)*total+i)] = a
	}
	q := NewQueue(testWindow)
	q.SetWantedScopes([]string{"instagram_business_basic"})
	q.Replace(testWindow, recordsOf(accounts), now)

	var want []AccountFigure
	for name, a := range accounts {
		want = append(want, AccountFigure{Name: name, Status: a.Status, ExpiresAt: a.ExpiresAt})
	}
	slices.SortFunc(want, func(a, b AccountFigure) int {
		if urgencyLess(a, b) {
			return -1
		}
		return 1
	})
	for _, n := range []int{1, 10, 1000, total, total + 5} {
		got, all := q.MostUrgent(n)
		if all != total {
			t.Fatalf("MostUrgent(%d) says %d accounts, want %d", n, all, total)
		}
		wantN := want[:min(n, total)]
		if len(got) != len(wantN) {
			t.Fatalf("MostUrgent(%d) answered %d accounts, want %d", n, len(got), len(wantN))
		}
		for i := range got {
			if got[i].Name != wantN[i].Name || got[i].Status != wantN[i].Status || !got[i].ExpiresAt.Equal(wantN[i].ExpiresAt) {
				t.Fatalf("MostUrgent(%d)[%d] = %+v, want %+v", n, i, got[i], wantN[i])
			}
		}
	}
	if got, _ := q.MostUrgent(0); len(got) != 0 {
		t.Fatalf("MostUrgent(0) = %v", got)
	}
}

// TestMostUrgentReportsMissingScopes: an account granted fewer scopes than
// the wanted ones says so, as the figures count it.
func TestMostUrgentReportsMissingScopes(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	q := NewQueue(testWindow)
	q.SetWantedScopes([]string{"instagram_business_basic", "instagram_business_content_publish"})
	q.Replace(testWindow, []Record{
		{Name: "full", Account: Account{Status: StatusValid, Scopes: []string{"instagram_business_basic", "instagram_business_content_publish"}}},
		{Name: "short", Account: Account{Status: StatusValid, Scopes: []string{"instagram_business_basic"}}},
		{Name: "unknown", Account: Account{Status: StatusValid}},
	}, now)
	got, _ := q.MostUrgent(10)
	var missing []string
	for _, a := range got {
		if a.MissingScopes {
			missing = append(missing, a.Name)
		}
	}
	if strings.Join(missing, ",") != "short" || q.Figures().MissingScopes != 1 {
		t.Fatalf("missing scopes: %v (figures %d)", missing, q.Figures().MissingScopes)
	}
}
