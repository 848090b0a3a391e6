package instagram

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

const (
	// versionWarning is how long before its end of life the configured
	// Graph API version draws warnings.
	versionWarning = 90 * 24 * time.Hour

	// appProblemPause is how long every call to Meta waits after an
	// app-level problem other than a throttle (blocked, restricted,
	// deactivated, development mode), unless Meta says how long: only the
	// app's developer can fix those, and each periodic run would otherwise
	// send one doomed call per due account. After the pause the next call
	// probes; a normal answer ends the problem.
	appProblemPause = 15 * time.Minute

	// Health levels of the engine's app-level assessment (status health).
	healthOK      = "ok"
	healthWarning = "warning"
	healthError   = "error"

	// failureClassApp is the refresh failure class of an app-level problem.
	failureClassApp = "app"
)

// appHealth is what the engine has learned about the Meta app as a whole
// from Meta's answers. An app-level problem is recorded here once, whichever
// account's call met it and however many did: the accounts are left as they
// were, since nothing was learned about their tokens.
type appHealth struct {
	mu      sync.Mutex
	problem *appProblemRecord
	counts  map[graph.AppProblemKind]int64
}

// appProblemRecord is the app-level problem in force.
type appProblemRecord struct {
	graph.AppProblem
	since, lastSeen time.Time
	seen            int64 // answers carrying it since `since`
}

func newAppHealth() *appHealth {
	return &appHealth{counts: map[graph.AppProblemKind]int64{}}
}

// recordProblem notes an answer about the app; it reports whether this is a
// new problem (none was recorded, or one of another kind), for the log.
func (h *appHealth) recordProblem(p graph.AppProblem, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[p.Kind]++
	if h.problem != nil && h.problem.Kind == p.Kind {
		h.problem.AppProblem = p
		h.problem.lastSeen = now
		h.problem.seen++
		return false
	}
	h.problem = &appProblemRecord{AppProblem: p, since: now, lastSeen: now, seen: 1}
	return true
}

// clearProblem ends the problem on record after a call sent at sentAt was
// answered normally; a call sent before the problem was last seen proves
// nothing. It reports the problem it ended, if any.
func (h *appHealth) clearProblem(sentAt time.Time) *appProblemRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.problem
	if p == nil || sentAt.Before(p.lastSeen) {
		return nil
	}
	h.problem = nil
	return p
}

type appHealthSnapshot struct {
	problem *appProblemRecord // a copy; nil when none
	counts  map[graph.AppProblemKind]int64
}

func (h *appHealth) snapshot() appHealthSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	snap := appHealthSnapshot{counts: make(map[graph.AppProblemKind]int64, len(h.counts))}
	for k, v := range h.counts {
		snap.counts[k] = v
	}
	if h.problem != nil {
		p := *h.problem
		snap.problem = &p
	}
	return snap
}

// appPausedAt is until when calls to Meta are paused now (zero: they are not).
func (b *backend) appPausedAt() time.Time {
	until, _ := b.appPaused(b.clock.Now())
	return until
}

// pauseFor is how long every call to Meta waits after p.
func (b *backend) pauseFor(p graph.AppProblem) time.Duration {
	d := appProblemPause
	if p.Kind == graph.AppThrottled {
		d = b.backoff(1)
	}
	return max(d, p.RetryAfter)
}

// versionState is config's graph_api_version against Meta's calendar.
type versionState struct {
	version string
	known   bool
	expires time.Time // zero: no end date known
	state   string    // current, expiring, ended or unknown
	level   string    // healthOK, healthWarning or healthError
	message string    // "" when there is nothing to say
}

// graphVersionState places version on Meta's calendar (graph/versions.go,
// the table of Meta's versions changelog).
func graphVersionState(version string, now time.Time) versionState {
	info := graph.LookupVersion(version)
	vs := versionState{version: version, known: info.Known, expires: info.Expires, state: "current", level: healthOK}
	switch {
	case !info.Known:
		vs.state, vs.level = "unknown", healthWarning
		vs.message = fmt.Sprintf("graph_api_version %s is not in this engine's table of Graph API versions, so its end of life is unknown: check Meta's versions changelog (the engine knows %s to %s)",
			version, graph.OldestKnownVersion(), graph.NewestKnownVersion())
	case info.Expires.IsZero():
		// Known, no end date announced yet.
	case !now.Before(info.Expires):
		vs.state, vs.level = "ended", healthError
		vs.message = fmt.Sprintf("graph_api_version %s reached its end of life on %s: Meta now answers its calls with the oldest version still live, whose behaviour may differ; set graph_api_version to a current version (such as %s)",
			version, info.Expires.Format(time.DateOnly), defaultGraphAPIVersion)
	case info.Expires.Sub(now) <= versionWarning:
		vs.state, vs.level = "expiring", healthWarning
		vs.message = fmt.Sprintf("graph_api_version %s reaches its end of life on %s (in %d days): move to a current version (such as %s) before then",
			version, info.Expires.Format(time.DateOnly), int(info.Expires.Sub(now).Hours()/24), defaultGraphAPIVersion)
	}
	return vs
}

// appAssessment is the engine's verdict on the app as a whole, for status:
// the worst level found and one line per finding.
type appAssessment struct {
	level    string
	findings []string
}

func (a *appAssessment) add(level, finding string) {
	if finding == "" {
		return
	}
	a.findings = append(a.findings, finding)
	if levelRank(level) > levelRank(a.level) {
		a.level = level
	}
}

func levelRank(level string) int {
	switch level {
	case healthError:
		return 2
	case healthWarning:
		return 1
	}
	return 0
}

// assessApp weighs the app's health: the Graph API version's end of life,
// an app-level problem Meta reported, a pause of every call, and accounts
// granted fewer scopes than config asks for.
func (b *backend) assessApp(cfg *config, figs schedule.Figures, h appHealthSnapshot, now time.Time) appAssessment {
	a := appAssessment{level: healthOK}
	if cfg != nil {
		vs := graphVersionState(cfg.GraphAPIVersion, now)
		a.add(vs.level, vs.message)
		if err := b.baseURLError(cfg); err != nil {
			a.add(healthError, "config "+err.Error())
		}
	}
	if p := h.problem; p != nil {
		level := healthError
		if p.Kind == graph.AppThrottled {
			level = healthWarning // Meta lifts a throttle by itself
		}
		a.add(level, fmt.Sprintf("Meta reports a problem with the app itself (%s, code %d) since %s, %d answers: %s",
			p.Kind, p.Code, formatTime(p.since), p.seen, strings.TrimSpace(p.Message)))
	}
	if until, _ := b.appPaused(now); !until.IsZero() {
		a.add(healthWarning, "every call to Meta is paused until "+formatTime(until))
	}
	if figs.MissingScopes > 0 {
		a.add(healthWarning, fmt.Sprintf("%d accounts were granted fewer scopes than config's scopes (missing_scopes on accounts/<name>): their owners must authorize again to grant them", figs.MissingScopes))
	}
	return a
}

// missingScopes lists the configured scopes an account was not granted;
// nil when its scopes are unknown (registered with a bare token).
func missingScopes(granted, configured []string) []string {
	if len(granted) == 0 {
		return nil
	}
	have := make(map[string]bool, len(granted))
	for _, s := range granted {
		have[s] = true
	}
	var out []string
	for _, s := range configured {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}

// appLevelFailure handles a refresh or health check that met an app-level
// problem, and says what happened. metaObserver has recorded it once and
// paused every call; the account is left as stored, since nothing was
// learned about its token, and is due again as soon as the pause ends.
// secrets are redacted from the message.
func (b *backend) appLevelFailure(stored *account, err error, secrets ...string) string {
	b.sched.Set(stored.Name, stored.scheduled())
	p, _ := graph.AppProblemOf(err)
	return fmt.Sprintf(
		"Meta reports a problem with the app itself (%s), not with this account, whose token is unchanged; calls to Meta are paused until %s: %s",
		p.Kind, formatTime(b.appPausedAt()), graph.Redact(err.Error(), secrets...))
}

// addAppHealth adds the app-level figures and verdict to a status answer,
// and each finding as a warning.
func (b *backend) addAppHealth(resp *logical.Response, cfg *config) {
	now := b.clock.Now()
	figs := b.sched.Figures()
	h := b.appHealth.snapshot()
	d := resp.Data
	d["schedule_ready"] = figs.Ready
	d["soonest_expiry_at"] = formatTime(figs.SoonestExpiry)
	d["accounts_missing_scopes"] = figs.MissingScopes
	if cfg != nil {
		vs := graphVersionState(cfg.GraphAPIVersion, now)
		d["graph_api_version"] = vs.version
		d["graph_api_version_state"] = vs.state
		d["graph_api_version_expires_at"] = formatTime(vs.expires)
	}
	if p := h.problem; p != nil {
		d["app_problem"] = map[string]any{
			"kind":      string(p.Kind),
			"code":      p.Code,
			"message":   p.Message,
			"since":     formatTime(p.since),
			"last_seen": formatTime(p.lastSeen),
			"answers":   p.seen,
		}
	}
	a := b.assessApp(cfg, figs, h, now)
	d["health"] = a.level
	d["health_findings"] = nonNil(a.findings)
	for _, f := range a.findings {
		resp.AddWarning(f)
	}
}

// warnGraphVersion adds a warning to a config answer when the configured
// Graph API version ends within 90 days, has ended, or is not in the
// engine's table.
func (b *backend) warnGraphVersion(resp *logical.Response, cfg *config) {
	if vs := graphVersionState(cfg.GraphAPIVersion, b.clock.Now()); vs.message != "" {
		resp.AddWarning(vs.message)
	}
}

// missingScopesOf is the configured scopes account a lacks (config unread
// or absent: none).
func (b *backend) missingScopesOf(ctx context.Context, s logical.Storage, a *account) []string {
	cfg, err := b.readConfig(ctx, s)
	if err != nil || cfg == nil {
		return nil
	}
	return missingScopes(a.Scopes, cfg.Scopes)
}

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
