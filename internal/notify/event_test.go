package notify

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The body is exactly the documented format: fields in order, "at" in RFC
// 3339 UTC, account and reauth_url only where they belong.
func TestEventBodyFormat(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"needs_reauth with link", Event{ID: "0123", Type: NeedsReauth, Account: "shop", Status: "needs_reauth", At: at, Reason: "the token was invalidated", ReauthURL: "https://vault.example/consent"},
			`{"id":"0123","type":"account.needs_reauth","account":"shop","status":"needs_reauth","at":"2026-03-01T11:00:00Z","reason":"the token was invalidated","reauth_url":"https://vault.example/consent"}`},
		{"app event", Event{ID: "4567", Type: AppPaused, Status: "paused", At: at},
			`{"id":"4567","type":"app.paused","status":"paused","at":"2026-03-01T11:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tc.ev.Body()
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.want {
				t.Errorf("body\n%s\nwant\n%s", body, tc.want)
			}
			var back Event
			if err := json.Unmarshal(body, &back); err != nil || !back.At.Equal(tc.ev.At) || back.ID != tc.ev.ID {
				t.Errorf("the body does not read back: %+v, %v", back, err)
			}
		})
	}
}

// Enqueue fills in a fresh random id and the time, keeps reauth_url on
// account.needs_reauth only, and drops the account of an app event.
func TestEnqueueFillsIDAndTimeAndTrimsFields(t *testing.T) {
	clock := newFakeClock()
	o := testOutbox(clock, Options{})
	defer o.Close()
	store := newMemStore()
	ids := map[string]bool{}
	for range 100 {
		ev := enqueue(t, o, store, NeedsReauth, "a")
		if len(ev.ID) != 32 || strings.Trim(ev.ID, "0123456789abcdef") != "" || ids[ev.ID] {
			t.Fatalf("id %q: want 32 fresh hex digits", ev.ID)
		}
		ids[ev.ID] = true
		if !ev.At.Equal(clock.Now()) {
			t.Fatalf("at %v, want the clock's %v", ev.At, clock.Now())
		}
	}
	ev, err := o.Enqueue(context.Background(), store, Event{Type: Reauthorized, Account: "a", ReauthURL: "https://x/consent"})
	if err != nil || ev.ReauthURL != "" {
		t.Errorf("reauth_url on %s: %q, %v", ev.Type, ev.ReauthURL, err)
	}
	ev, err = o.Enqueue(context.Background(), store, Event{Type: AppResumed, Account: "a", Status: "running"})
	if err != nil || ev.Account != "" {
		t.Errorf("app event account %q, %v", ev.Account, err)
	}
}

// The reason is bounded, valid UTF-8, free of control characters and of
// anything that looks like a credential.
func TestBoundReason(t *testing.T) {
	token := "IGAAR" + strings.Repeat("x7Yz", 40)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "Error validating access token: the user changed the password", "Error validating access token: the user changed the password"},
		{"a token", "bad token " + token + " here", "bad token [redacted] here"},
		{"query credentials", "GET /refresh_access_token?grant_type=ig_refresh_token&access_token=abc.def-1&code=xyz", "GET /refresh_access_token?grant_type=ig_refresh_token&access_token=[redacted]&code=[redacted]"},
		{"secret and state", "client_secret=s3 state=deadbeef", "client_secret=[redacted] state=[redacted]"},
		{"control characters", "line one\nline two\x00\ttab", "line one line two  tab"},
		{"invalid utf-8", "bad \xff byte", "bad \uFFFD byte"},
		{"fbtrace ids stay", "(fbtrace_id: AbCdEf123_-xyz)", "(fbtrace_id: AbCdEf123_-xyz)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BoundReason(tc.in); got != tc.want {
				t.Errorf("BoundReason(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}

	// Cut at a character boundary: 2-, 3- and 4-byte characters across
	// the limit.
	for _, r := range []string{"é", "€", "😀", "a"} {
		in := strings.Repeat(r+" ", MaxReasonBytes)
		got := BoundReason(in)
		if len(got) > MaxReasonBytes || len(got) < MaxReasonBytes-4 || !utf8.ValidString(got) || !strings.HasPrefix(in, got) {
			t.Errorf("%q repeated: cut to %d bytes (valid %v), want <= %d, a prefix, valid UTF-8", r, len(got), utf8.ValidString(got), MaxReasonBytes)
		}
	}
}

// A property: whatever the input, the reason is valid UTF-8, within the
// bound, and without control characters.
func TestBoundReasonProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rng.IntN(3*MaxReasonBytes))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		got := BoundReason(string(b))
		if len(got) > MaxReasonBytes || !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("BoundReason(%q) = %q", b, got)
		}
	}
}

// The retry schedule: the first retry within 15-30 s, each later one in the
// upper half of a doubling range, never more than MaxRetryInterval; jitter
// spreads retries over the whole upper half.
func TestRetryDelayBoundsAndJitter(t *testing.T) {
	for failures := 1; failures <= 100; failures++ {
		base := MaxRetryInterval
		if failures <= 7 {
			base = min(FirstRetry<<(failures-1), MaxRetryInterval)
		}
		lo, hi := RetryDelay(failures, 0), RetryDelay(failures, 0.999999)
		if lo != base/2 || hi > base || hi < base-base/1000 {
			t.Errorf("failures %d: delays [%v, %v], want [%v, %v)", failures, lo, hi, base/2, base)
		}
		if failures > 1 && RetryDelay(failures, 0.5) < RetryDelay(failures-1, 0.5) {
			t.Errorf("failures %d: the delay shrank", failures)
		}
	}
	if d := RetryDelay(1, 0.999); d > 30*time.Second || d < 15*time.Second {
		t.Errorf("first retry after %v, want 15-30 s", d)
	}
	if d := RetryDelay(1000, 1); d > time.Hour {
		t.Errorf("retry after %v, want at most an hour apart", d)
	}
	// Out-of-range jitter is clamped rather than trusted.
	if RetryDelay(1, -3) != FirstRetry/2 || RetryDelay(1, 7) != FirstRetry || RetryDelay(0, 0) != FirstRetry/2 {
		t.Error("out-of-range jitter or failures not clamped")
	}
	// Jitter spreads: 1000 draws cover the range, none outside.
	rng := rand.New(rand.NewPCG(3, 4))
	var minD, maxD time.Duration = time.Hour, 0
	for range 1000 {
		d := RetryDelay(3, rng.Float64())
		minD, maxD = min(minD, d), max(maxD, d)
	}
	if minD < 60*time.Second || maxD >= 120*time.Second || maxD-minD < 55*time.Second {
		t.Errorf("third retry spread over [%v, %v], want most of [60s, 120s)", minD, maxD)
	}
}

func TestTransition(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     Type
	}{
		{"", "valid", ""},
		{"", "needs_reauth", ""},
		{"valid", "valid", ""},
		{"valid", "needs_reauth", NeedsReauth},
		{"refresh_failing", "needs_reauth", NeedsReauth},
		{"expiring", "needs_reauth", NeedsReauth},
		{"needs_reauth", "valid", Reauthorized},
		{"needs_reauth", "expiring", Reauthorized},
		{"valid", "refresh_failing", RefreshFailing},
		{"expiring", "refresh_failing", RefreshFailing},
		{"refresh_failing", "refresh_failing", ""},
		{"refresh_failing", "valid", ""},
		{"valid", "expiring", ""},
		{"expiring", "valid", ""},
	} {
		got, ok := Transition(tc.from, tc.to)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Transition(%q, %q) = %q, %v; want %q", tc.from, tc.to, got, ok, tc.want)
		}
	}
}
