package schedule

import (
	"testing"
	"time"
)

// TestExpired: the one expiry rule the account record, the schedule and
// the due decision share. The instant of expiry is expired (Meta refuses
// the token from then on); an unknown expiry never is.
func TestExpired(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		expiresAt time.Time
		now       time.Time
		want      bool
	}{
		{"unknown expiry", time.Time{}, at, false},
		{"a nanosecond before", at, at.Add(-time.Nanosecond), false},
		{"at the instant", at, at, true},
		{"after", at, at.Add(time.Hour), true},
	} {
		if got := Expired(tc.expiresAt, tc.now); got != tc.want {
			t.Errorf("%s: Expired = %v, want %v", tc.name, got, tc.want)
		}
		if got := (Account{ExpiresAt: tc.expiresAt}).Expired(tc.now); got != tc.want {
			t.Errorf("%s: Account.Expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTooYoungToRefresh: Instagram's 24-hour rule at its edge; an unknown
// issue time does not hold a refresh back.
func TestTooYoungToRefresh(t *testing.T) {
	issued := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if TooYoungToRefresh(time.Time{}, issued) {
		t.Error("an unknown issue time held a refresh back")
	}
	for age, want := range map[time.Duration]bool{MinTokenAge - time.Nanosecond: true, MinTokenAge: false, 30 * MinTokenAge: false} {
		if got := TooYoungToRefresh(issued, issued.Add(age)); got != want {
			t.Errorf("a token %v old: TooYoungToRefresh = %v, want %v", age, got, want)
		}
	}
}
