package schedule

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// TestPackedTimingIsExact: an entry gives back the timing it was given,
// to the nanosecond, scopes as the figures' bits aside.
func TestPackedTimingIsExact(t *testing.T) {
	s := NewQueue(testWindow)
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	for _, in := range []Account{
		{},
		{ExpiresAt: at, IssuedAt: at.Add(-time.Hour), RegisteredAt: at.Add(-2 * time.Hour), RetryAt: at.Add(time.Minute),
			Status: StatusRefreshFailing, Login: LoginFacebook, CheckedAt: at.Add(-time.Second), Owners: [2]uint64{1, 2}},
		{RegisteredAt: at, Status: "a_status_of_tomorrow", Login: "another_login"},
	} {
		s.Set("x", in)
		in.CheckOffset = CheckOffset("x")
		if got := s.accountsForTest()["x"]; !reflect.DeepEqual(got, in) {
			t.Errorf("packed and unpacked:\n got %+v\nwant %+v", got, in)
		}
	}
}

// TestPackTimeSaturatesPastInt64Nanoseconds: a time past what int64
// nanoseconds hold (after 2262, before 1677) is kept as the nearest one
// they hold, never wrapped around: a year-2300 expiry stays far in the
// future instead of becoming one in 1715. The engine bounds every time it
// takes from Meta to ten years ahead (graph.MaxExpiresIn); this is the
// schedule's own guard for any time that comes from elsewhere.
func TestPackTimeSaturatesPastInt64Nanoseconds(t *testing.T) {
	latest, earliest := time.Unix(0, math.MaxInt64).UTC(), time.Unix(0, math.MinInt64).UTC()
	for in, want := range map[time.Time]time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC):   latest,
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC): latest,
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC):   earliest,
		latest:   latest,
		earliest: earliest,
		time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC): time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got := unpackTime(packTime(in)); !got.Equal(want) {
			t.Errorf("packTime(%s) unpacks as %s, want %s", in, got, want)
		}
	}
	q := NewQueue(testWindow)
	q.Set("far", Account{ExpiresAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), IssuedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Status: StatusValid})
	if got := q.Figures().SoonestExpiry; got.Year() < 2262 {
		t.Fatalf("a year-2300 expiry is counted as %s", got)
	}
}
