package schedule

import (
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
