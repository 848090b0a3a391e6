package instagram

import (
	"reflect"
	"testing"
	"time"
)

// timingsForTest is every entry's timing, by name.
func (s *schedule) timingsForTest() map[string]timing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timingsLockedForTest()
}

// timingsLockedForTest is timingsForTest for a caller holding mu.
func (s *schedule) timingsLockedForTest() map[string]timing {
	out := map[string]timing{}
	s.eachLocked(func(e *schedEntry) { out[e.name] = s.timingLocked(e) })
	return out
}

// hasForTest reports whether name has an entry.
func (s *schedule) hasForTest(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookupLocked(name)
	return ok
}

// TestPackedTimingIsExact: an entry gives back the timing it was given,
// to the nanosecond, scopes as the figures' bits aside.
func TestPackedTimingIsExact(t *testing.T) {
	s := newSchedule()
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	for _, in := range []timing{
		{},
		{expiresAt: at, issuedAt: at.Add(-time.Hour), registeredAt: at.Add(-2 * time.Hour), retryAt: at.Add(time.Minute),
			status: statusRefreshFailing, login: loginFacebook, checkedAt: at.Add(-time.Second), owners: [2]uint64{1, 2}},
		{registeredAt: at, status: "a_status_of_tomorrow", login: "another_login"},
	} {
		s.set("x", in)
		in.checkOffset = healthCheckOffset("x")
		if got := s.timingsForTest()["x"]; !reflect.DeepEqual(got, in) {
			t.Errorf("packed and unpacked:\n got %+v\nwant %+v", got, in)
		}
	}
}
