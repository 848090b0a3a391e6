package instagram

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNotifyFiguresInStatusAndMetrics: a receiver that is down leaves a
// backlog that status and metrics show (pending, failed attempts, the
// oldest event's age), and its delivery moves it to delivered; nothing
// names an account.
func TestNotifyFiguresInStatusAndMetrics(t *testing.T) {
	e := newTestEnv(t)
	var up atomic.Bool
	rcv := e.enableNotify(func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	}, nil)
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()
	e.clock.Advance(10 * time.Second)

	n := e.mustOK(e.read("status")).Data["notifications"].(map[string]any)
	if n["enabled"] != true || n["pending"] != 1 || n["failed_attempts"] != int64(1) || n["delivered"] != int64(0) || n["oldest_pending_age_seconds"] != int64(10) {
		t.Fatalf("status notifications while the receiver is down: %v", n)
	}
	s := e.scrapeMetrics(nil)
	for family, want := range map[string]float64{
		"vault_instagram_notify_pending":                    1,
		"vault_instagram_notify_failed_attempts_total":      1,
		"vault_instagram_notify_delivered_total":            0,
		"vault_instagram_notify_oldest_pending_age_seconds": 10,
	} {
		if got := s.value(t, family); got != want {
			t.Errorf("%s = %v, want %v", family, got, want)
		}
	}
	for _, reason := range []string{"expired", "backlog"} {
		if got := s.value(t, "vault_instagram_notify_dropped_total", "reason", reason); got != 0 {
			t.Errorf("dropped_total{reason=%s} = %v", reason, got)
		}
	}
	for _, line := range strings.Split(s.body, "\n") {
		if strings.HasPrefix(line, "vault_instagram_notify_") && strings.Contains(line, "shop") {
			t.Errorf("a notify metric names an account: %s", line)
		}
	}

	up.Store(true)
	e.clock.Advance(time.Minute)
	e.tickAndDeliver()
	n = e.mustOK(e.read("status")).Data["notifications"].(map[string]any)
	if n["pending"] != 0 || n["delivered"] != int64(1) || n["oldest_pending_age_seconds"] != int64(0) || n["loaded"] != true {
		t.Fatalf("status notifications after the delivery: %v", n)
	}
	if got := e.scrapeMetrics(nil).value(t, "vault_instagram_notify_delivered_total"); got != 1 || len(rcv.deliveries()) != 2 {
		t.Fatalf("delivered_total = %v after %d attempts", got, len(rcv.deliveries()))
	}
}
