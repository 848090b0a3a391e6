package instagram

import (
	"sync"
	"time"
)

// appPause is Meta's app-wide throttle (code 4) as the engine honours it:
// no refresh or health check calls Meta until until. Meta's wait is bounded
// (graph.MaxRetryAfter: a day), so one absurd answer cannot stop the mount
// for years; status shows the pause while it lasts (app_paused_until,
// app_pause_reason), since every account's work silently waits meanwhile.
type appPause struct {
	mu     sync.Mutex
	until  time.Time
	reason string
}

// pauseApp stops every call to Meta until until, for reason (which names
// the call that met the throttle and Meta's redacted message). A pause only
// ever extends: a shorter one found meanwhile does not cut it short.
func (b *backend) pauseApp(until time.Time, reason string) {
	p := &b.appPause
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.until) {
		p.until, p.reason = until, reason
	}
}

// appPaused is the pause in force at now: until when and why; the zero
// time and "" when there is none.
func (b *backend) appPaused(now time.Time) (time.Time, string) {
	p := &b.appPause
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.until) {
		return p.until, p.reason
	}
	return time.Time{}, ""
}
