package instagram

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const (
	// tickBudget bounds handing out one periodic run's work. Vault calls
	// PeriodicFunc about once a minute; work not started within the budget
	// waits for the next tick, still due, so a slow Meta cannot stall
	// Vault. Work already started is not cut short: a refresh finishes its
	// call (bounded by request_timeout) and its save, so a run lasts at
	// most the budget plus one request_timeout and a save.
	tickBudget = 45 * time.Second

	// claimLease is how long a claimed account stays out of the queue while
	// a worker has it. It outlasts any refresh (request_timeout is at most
	// 5 minutes), so a claim is never handed out twice.
	claimLease = 10 * time.Minute

	// maxClaimsPerTick caps the work one tick takes on.
	maxClaimsPerTick = 10000

	// rescanEvery is the safety net: the schedule is rebuilt from storage
	// this often, in case anything ever drifted.
	rescanEvery = time.Hour

	backoffBase = time.Minute
	backoffMax  = 6 * time.Hour
)

// errRefreshRefused is a manual refresh Instagram would refuse anyway.
var errRefreshRefused = errors.New("refresh refused")

// periodic is Vault's PeriodicFunc: it refreshes what is due.
func (b *backend) periodic(ctx context.Context, req *logical.Request) error {
	// Wherever the unauthenticated paths ran, say how many refusals they
	// did not log.
	b.refusals.flush(b.Logger(), b.clock.Now())
	// Only where storage is writable: performance standbys and secondaries
	// leave refreshing to the primary's active node.
	if !b.WriteSafeReplicationState() {
		return nil
	}
	if !b.ticking.CompareAndSwap(false, true) {
		return nil
	}
	defer b.ticking.Store(false)
	return b.tick(ctx, req.Storage)
}

// tick is one periodic run.
func (b *backend) tick(ctx context.Context, s logical.Storage) error {
	start := b.clock.Now()
	b.stats.recordPeriodic(start)
	if b.sched.needsRebuild(start, rescanEvery) {
		switch err := b.rebuildSchedule(ctx, s); {
		case errors.Is(err, errRebuildRunning):
			// The start-up rebuild is still reading storage: what is due
			// is not known yet, so this tick has nothing to do.
			return nil
		case err != nil:
			return err
		}
	}
	b.sweepExpiredStates(ctx, s, start)
	cfg, err := b.readConfig(ctx, s)
	if err != nil || cfg == nil {
		return err
	}
	b.sweepCallbackRecords(ctx, s, cfg, start)

	if until, _ := b.appPaused(start); !until.IsZero() {
		// Meta throttles the whole app: calling for any account now would
		// only extend the throttle. Everything due stays due.
		b.stats.recordTick(start, 0, 0, 0)
		return nil
	}
	claims := b.sched.claimDue(start, maxClaimsPerTick, claimLease)
	if len(claims) == 0 {
		b.stats.recordTick(start, 0, 0, 0)
		return nil
	}

	handOut, cancel := b.tickBudget(ctx)
	defer cancel()
	// The work runs on a context the budget cannot cancel (nor Vault's,
	// which a slow tick may outlast): cancelling a refresh in flight
	// could drop a token Meta has already issued (the old one stays valid,
	// but the account would sit leased for claimLease) and leave the
	// failure unrecorded. Each call to Meta has its own request_timeout.
	work := context.WithoutCancel(ctx)
	refreshed, failed := b.runRefreshes(handOut, work, s, cfg.RefreshConcurrency, claims)
	b.stats.recordTick(start, b.clock.Now().Sub(start), refreshed, failed)
	return nil
}

// runRefreshes works through claims with at most workers refreshes at once,
// each on work. Claims not started before handOut ends go back to the queue
// untouched; those started run to their end.
func (b *backend) runRefreshes(handOut, work context.Context, s logical.Storage, workers int, claims []claim) (refreshed, failed int) {
	var mu sync.Mutex
	unstarted := forEachBounded(handOut, workers, claims, func(c claim) {
		if until, _ := b.appPaused(b.clock.Now()); !until.IsZero() {
			// Another worker hit the app-wide throttle.
			b.sched.release(c)
			return
		}
		did, err := b.periodicWork(work, s, c.name)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case did != workRefresh:
			// A health check (counted in the health check totals by
			// itself), or nothing was due after all.
		case err != nil:
			failed++
		default:
			refreshed++
		}
	})
	for _, c := range unstarted {
		b.sched.release(c)
	}
	return refreshed, failed
}

// work is what the periodic work did with an account it took up.
type work int

const (
	workNone    work = iota // nothing was due after all (or the account is gone)
	workRefresh             // a refresh (Instagram Login)
	workCheck               // a health check (Facebook Login, or an Instagram token's daily check)
)

// periodicWork does what is due for one account the schedule handed out.
func (b *backend) periodicWork(ctx context.Context, s logical.Storage, name string) (work, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	_, did, err := b.refreshLocked(ctx, s, name, false)
	return did, err
}

// refreshAccount refreshes one account's token on an operator's request: it
// refuses, as a 400, what Instagram would refuse, and a Facebook Login
// account, which has no refresh grant. On failure the stored token stays as
// it was and the failure is recorded on the account.
func (b *backend) refreshAccount(ctx context.Context, s logical.Storage, name string) (*account, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	a, _, err := b.refreshLocked(ctx, s, name, true)
	return a, err
}

// refreshLocked does an account's work under its lock, which the caller
// holds, and returns the account as it stands afterwards. A periodic call
// (manual false) does nothing unless something is due: the refresh, or else
// a health check. Facebook Login accounts, which have no refresh grant, are
// only ever checked (checkFacebookAccount); working Instagram Login accounts
// are checked daily between refreshes (checkInstagramAccount).
func (b *backend) refreshLocked(ctx context.Context, s logical.Storage, name string, manual bool) (*account, work, error) {
	stored, err := loadAccount(ctx, s, name)
	if err != nil || stored == nil {
		if stored == nil && err == nil {
			b.sched.remove(name)
		}
		return nil, workNone, err
	}
	meta, cfg, err := b.metaFor(ctx, s)
	if err != nil {
		return stored, workNone, err
	}
	now := b.clock.Now()
	if stored.facebook() {
		// No refresh grant: the periodic work checks the token instead.
		if manual {
			return stored, workNone, errNoRefreshGrant(name)
		}
		a, err := b.checkFacebookAccount(ctx, s, meta, cfg, stored, now)
		return a, workCheck, err
	}
	t := stored.timing()
	if !manual && stored.Status != statusNeedsReauth {
		if why := beyondRefresh(stored, now); why != "" {
			// Nothing but the owner can save this token: say so on the
			// account and stop handing it out, rather than claim it
			// again at every tick.
			a, err := b.saveNeedsReauth(ctx, s, stored, now, why)
			return a, workRefresh, err
		}
	}
	if !manual && stored.AccessToken != "" && t.instagramCheckDue(cfg.RefreshWindow, now) {
		a, err := b.checkInstagramAccount(ctx, s, meta, cfg, stored, now)
		return a, workCheck, err
	}
	if err := refreshable(stored, now, manual); err != nil {
		if !manual {
			// Not due after all (a concurrent write moved it): requeue
			// from what is stored.
			b.sched.putBack(name, t, now, claimLease)
		}
		return stored, workRefresh, err
	}
	if !manual && t.refreshDueAt(cfg.RefreshWindow).After(now) {
		b.sched.putBack(name, t, now, claimLease)
		return stored, workNone, nil
	}

	tok, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return meta.Refresh(ctx, stored.AccessToken)
	})
	next := stored.clone()
	if _, app := graph.AppProblemOf(err); app {
		b.stats.recordRefreshFailed(failureClassApp)
		return stored, workRefresh, b.appLevelFailure(stored, err, stored.AccessToken, cfg.AppSecret)
	}
	if err != nil {
		b.recordFailure(next, err, now, cfg.AppSecret)
		if serr := b.saveAccount(ctx, s, next); serr != nil {
			return stored, workRefresh, serr
		}
		b.Logger().Warn("refresh failed", "account", name, "status", next.Status,
			"consecutive_failures", next.ConsecutiveFailures, "retry_at", formatTime(next.RetryAt), "error", next.LastError)
		return next, workRefresh, &refreshError{account: name, class: graph.Classify(err), msg: next.LastError}
	}

	// Crash safety is by write ordering, not a WAL: nothing is written
	// before Meta answers, and the new token, its expiry and the cleared
	// due state go to storage in one Put of one entry. If Vault dies
	// between Meta's answer and that Put, storage still holds the old
	// token, which a refresh does not invalidate (it extends validity;
	// Meta documents no revocation of the old string), and the account is
	// still due, so the first tick after the restart refreshes it again.
	// A WAL written before the call could not hold more: the new token
	// exists only once Meta has answered. e2e/ha kills the active node
	// while Meta's answers are on their way back, and checks exactly this.
	next.recordRefreshSuccess(now, tok)
	if err := b.saveAccount(ctx, s, next); err != nil {
		return stored, workRefresh, err
	}
	b.stats.recordRefresh(true)
	b.Logger().Debug("token refreshed", "account", name, "expires_at", formatTime(next.ExpiresAt))
	return next, workRefresh, nil
}

// beyondRefresh says why an Instagram Login account's token can never be
// refreshed again, if it cannot: it expired (Instagram refuses expired
// tokens: only its owner authorizing again renews it), or the account
// holds none. "" while a refresh can still save it.
func beyondRefresh(a *account, now time.Time) string {
	switch {
	case a.AccessToken == "":
		return "the account holds no token; the owner must authorize again (auth-url)"
	case a.expired(now):
		return fmt.Sprintf("the token expired at %s before it could be refreshed, and Instagram cannot refresh an expired token; the owner must authorize again (auth-url)",
			formatTime(a.ExpiresAt))
	}
	return ""
}

// saveNeedsReauth marks an account whose token nothing but its owner can
// save: needs_reauth, off the schedule, counted as such in status. The
// caller holds the account's lock and has loaded stored from storage.
func (b *backend) saveNeedsReauth(ctx context.Context, s logical.Storage, stored *account, now time.Time, why string) (*account, error) {
	next := stored.clone()
	next.markNeedsReauth(now, why)
	if err := b.saveAccount(ctx, s, next); err != nil {
		return stored, err
	}
	b.Logger().Warn("account needs re-authorization", "account", next.Name, "error", next.LastError)
	return next, &refreshError{account: next.Name, class: graph.ClassReauth, msg: next.LastError}
}

// refreshable says why a token cannot be refreshed now, if it cannot.
func refreshable(a *account, now time.Time, manual bool) error {
	switch {
	case a.AccessToken == "":
		return fmt.Errorf("%w: account %q holds no token; re-authorize it", errRefreshRefused, a.Name)
	case a.Status == statusNeedsReauth && !manual:
		return fmt.Errorf("%w: account %q needs re-authorization", errRefreshRefused, a.Name)
	case a.expired(now):
		return fmt.Errorf("%w: the token expired at %s and Instagram cannot refresh an expired token; re-authorize account %q",
			errRefreshRefused, formatTime(a.ExpiresAt), a.Name)
	case !a.IssuedAt.IsZero() && now.Sub(a.IssuedAt) < minTokenAge:
		return fmt.Errorf("%w: the token was issued at %s and Instagram refreshes tokens only once they are 24 hours old (from %s)",
			errRefreshRefused, formatTime(a.IssuedAt), formatTime(a.IssuedAt.Add(minTokenAge)))
	}
	return nil
}

// recordFailure counts a failed refresh and notes it on the account
// (recordRefreshFailure) without touching its token: transient failures
// back off exponentially with jitter; an invalid token or a lost
// permission needs the account owner and stops the retries.
func (b *backend) recordFailure(a *account, err error, now time.Time, appSecret string) {
	b.stats.recordRefreshFailed(graph.Classify(err).String())
	a.recordRefreshFailure(now, err, redact(err.Error(), a.AccessToken, appSecret), b.backoff)
}

// backoff is the delay before retry n (1-based): base·2^(n-1), capped, with
// ±20% jitter so accounts that failed together do not retry together.
func (b *backend) backoff(n int) time.Duration {
	d := backoffBase
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return time.Duration(float64(d) * b.jitter())
}

func defaultJitter() float64 { return 0.8 + 0.4*rand.Float64() }

// refreshError is a refresh Meta refused or could not answer.
type refreshError struct {
	account string
	class   graph.Class
	msg     string
}

func (e *refreshError) Error() string {
	return fmt.Sprintf("refreshing account %q failed (%s): %s", e.account, e.class, e.msg)
}

// Code makes a manual refresh's failure a 502 when Meta was unavailable and
// a 400 when it refused.
func (e *refreshError) Code() int {
	if e.class == graph.ClassTransient || e.class == graph.ClassThrottled {
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}
