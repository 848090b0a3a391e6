package instagram

import (
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// refusalLogEvery is the most often one unauthenticated path logs a
// refusal.
const refusalLogEvery = time.Minute

// refusalLog rate-limits the warnings of the unauthenticated paths
// (callback, deauthorize, data-deletion). Anyone who can reach Vault can
// send them bad requests, and a line per request would let them flood
// Vault's log (and the disk and log shipping behind it) and bury what
// matters. Per path it logs at most one line every refusalLogEvery and
// counts the rest; the count goes out as a line of its own before the
// path's next logged line, or from the periodic work (flush) once the
// minute is over, so a burst that stops is still reported.
//
// Only refusals anyone can cause go through it. Lines that follow a valid
// state or signed_request are bounded by what an operator or Meta issued,
// and are logged as they happen.
type refusalLog struct {
	every time.Duration
	// level is the lines' level; countMsg heads the line that counts the
	// lines not logged.
	level    hclog.Level
	countMsg string

	mu    sync.Mutex
	paths map[string]*refusalWindow
}

// refusalWindow is one path's state: when it last logged, and how many
// refusals it has not logged since.
type refusalWindow struct {
	loggedAt   time.Time
	suppressed int
	// firstSuppressedAt is when the first unlogged refusal came.
	firstSuppressedAt time.Time
}

func newRefusalLog(every time.Duration) *refusalLog {
	return newRateLimitedLog(every, hclog.Warn, "refusals not logged (at most one line a minute per path)")
}

// newRateLimitedLog is a refusalLog for other lines anyone can cause: at
// level, its count lines headed countMsg.
func newRateLimitedLog(every time.Duration, level hclog.Level, countMsg string) *refusalLog {
	return &refusalLog{every: every, level: level, countMsg: countMsg, paths: make(map[string]*refusalWindow)}
}

// warn logs msg for path unless path logged within the last r.every, in
// which case it only counts it. args are hclog's key-value pairs; the path
// is added as "path".
func (r *refusalLog) warn(log hclog.Logger, now time.Time, path, msg string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.paths[path]
	if w == nil {
		w = &refusalWindow{}
		r.paths[path] = w
	}
	if !w.loggedAt.IsZero() && now.Sub(w.loggedAt) < r.every {
		if w.suppressed == 0 {
			w.firstSuppressedAt = now
		}
		w.suppressed++
		return
	}
	r.reportLocked(log, path, w)
	w.loggedAt = now
	log.Log(r.level, msg, append([]any{"path", path}, args...)...)
}

// flush reports the refusals each path did not log, once that path's
// minute is over. The periodic work calls it.
func (r *refusalLog) flush(log hclog.Logger, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for path, w := range r.paths {
		if w.suppressed > 0 && now.Sub(w.loggedAt) >= r.every {
			r.reportLocked(log, path, w)
			// The count line is that minute's line.
			w.loggedAt = now
		}
	}
}

// reportLocked writes the count line of w if it has one. Caller holds mu.
func (r *refusalLog) reportLocked(log hclog.Logger, path string, w *refusalWindow) {
	if w.suppressed == 0 {
		return
	}
	log.Log(r.level, r.countMsg, "path", path, "count", w.suppressed, "since", formatTime(w.firstSuppressedAt))
	w.suppressed = 0
	w.firstSuppressedAt = time.Time{}
}

// warnRefusal is the backend's way into its refusal log: the mount's
// logger and clock.
func (b *backend) warnRefusal(path, msg string, args ...any) {
	b.refusals.warn(b.Logger(), b.clock.Now(), path, msg, args...)
}

// noteSignedRequest logs, at most once a minute per path, a line about a
// valid signed request: anyone holding a user's fbsr_<app_id> cookie has
// a fresh one whenever Meta's SDK renews it, so these lines are as much
// the caller's to cause as refusals are.
func (b *backend) noteSignedRequest(path, msg string, args ...any) {
	b.signedRequestLog.warn(b.Logger(), b.clock.Now(), path, msg, args...)
}
