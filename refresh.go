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
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
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

	// rescanEvery is the safety net: the schedule is checked against
	// storage this often, in case anything ever drifted (checkIndex).
	rescanEvery = time.Hour

	backoffBase = time.Minute
	backoffMax  = 6 * time.Hour
)

// errRefreshRefused is a manual refresh Instagram would refuse anyway.
var errRefreshRefused = errors.New("refresh refused")

// periodic is Vault's PeriodicFunc: the engine's chores, each owned by
// the file named beside it, in this order.
func (b *backend) periodic(ctx context.Context, req *logical.Request) error {
	// Wherever the unauthenticated paths ran, say how many refusals they
	// did not log (refusal_log.go).
	b.flushRefusalCounts()
	// Only where storage is writable: performance standbys and secondaries
	// leave refreshing to the primary's active node.
	if !b.WriteSafeReplicationState() {
		return nil
	}
	// Hand notification delivery off, after this run's refreshes (whose
	// events were handed off as they were stored): notify.go.
	defer b.notifyPeriodic(ctx, req.Storage)
	if !b.ticking.CompareAndSwap(false, true) {
		return nil
	}
	defer b.ticking.Store(false)
	return b.tick(ctx, req.Storage)
}

// tick is one periodic run: a list of chores, in order. Those deferred run
// after the refresh work however it ends, last first: the sweeps, then the
// index flush.
func (b *backend) tick(ctx context.Context, s logical.Storage) error {
	start := b.clock.Now()
	b.stats.recordPeriodic(start)
	// The schedule in memory, built or checked against storage
	// (rebuild.go, schedule_index_check.go).
	if ready, err := b.scheduleChore(ctx, s, start); !ready || err != nil {
		return err
	}
	// The index shards that memory has moved past (schedule_index.go).
	defer b.flushIndexChore(ctx, s)
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		return err
	}
	// The bounded sweeps of pending states and signed-request records
	// (pending_states.go, signed_request_records.go): after the refresh
	// work, so that even a backlog of them delays no refresh.
	defer b.sweepChore(ctx, s, cfg, start)
	if cfg == nil {
		return nil
	}
	// The refreshes and health checks that are due (below).
	b.refreshChore(ctx, s, cfg, start)
	return nil
}

// flushRefusalCounts logs how many refusals of the unauthenticated paths
// went unlogged, both limiters' (refusal_log.go).
func (b *backend) flushRefusalCounts() {
	b.refusals.flush(b.Logger(), b.clock.Now())
	b.signedRequestLog.flush(b.Logger(), b.clock.Now())
}

// scheduleChore makes the in-memory schedule ready for this run: built
// (at start-up, or after it was lost), or once an hour checked against
// storage. ready is false while the start-up rebuild still reads storage:
// what is due is not known yet, so the run has nothing to do.
func (b *backend) scheduleChore(ctx context.Context, s logical.Storage, start time.Time) (ready bool, err error) {
	if !b.sched.Built() {
		switch err := b.rebuildSchedule(ctx, s); {
		case errors.Is(err, errRebuildRunning):
			return false, nil
		case err != nil:
			return false, err
		}
		return true, nil
	}
	if b.sched.NeedsRebuild(start, rescanEvery) {
		if err := b.checkIndex(ctx, s); err != nil {
			b.Logger().Warn("the hourly check of the schedule against storage failed; the next periodic run retries", "error", err)
		}
	}
	return true, nil
}

// flushIndexChore writes the index shards memory has moved past; a failure
// is retried by the next run.
func (b *backend) flushIndexChore(ctx context.Context, s logical.Storage) {
	if err := b.flushIndex(ctx, s); err != nil {
		b.Logger().Warn("could not write the schedule index; the next periodic run retries", "error", err)
	}
}

// sweepChore runs the bounded sweeps of expired pending states and, with a
// config, of signed-request records.
func (b *backend) sweepChore(ctx context.Context, s logical.Storage, cfg *config, start time.Time) {
	b.sweepExpiredStates(ctx, s, start)
	if cfg != nil {
		b.sweepCallbackRecords(ctx, s, cfg, start)
	}
}

// refreshChore claims what is due and works through it with
// refresh_concurrency workers, within the run's budget; nothing while Meta
// throttles the whole app, since calling for any account now would only
// extend the throttle (everything due stays due).
func (b *backend) refreshChore(ctx context.Context, s logical.Storage, cfg *config, start time.Time) {
	if until, _ := b.appPaused(start); !until.IsZero() {
		b.stats.recordTick(start, b.clock.Now().Sub(start), 0, 0)
		return
	}
	claims := b.sched.ClaimDue(start, maxClaimsPerTick, claimLease)
	if len(claims) == 0 {
		b.stats.recordTick(start, b.clock.Now().Sub(start), 0, 0)
		return
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
}

// runRefreshes works through claims with at most workers refreshes at once,
// each on work. Claims not started before handOut ends go back to the queue
// untouched; those started run to their end.
func (b *backend) runRefreshes(handOut, work context.Context, s logical.Storage, workers int, claims []schedule.Claim) (refreshed, failed int) {
	var mu sync.Mutex
	unstarted := forEachBounded(handOut, workers, claims, func(c schedule.Claim) {
		if until, _ := b.appPaused(b.clock.Now()); !until.IsZero() {
			// Another worker hit the app-wide throttle.
			b.sched.Release(c)
			return
		}
		did, err := b.periodicWork(work, s, c.Name)
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
		b.sched.Release(c)
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

// periodicWork does what is due for one account the schedule handed out,
// under the account's lock: decideDue says what, from the account as
// stored, and one step does it.
func (b *backend) periodicWork(ctx context.Context, s logical.Storage, name string) (work, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	stored, err := b.loadOrUnschedule(ctx, s, name)
	if err != nil || stored == nil {
		return workNone, err
	}
	meta, cfg, err := b.metaFor(ctx, s)
	if err != nil {
		return workNone, err
	}
	now := b.clock.Now()
	due := decideDue(stored.scheduled(), stored.AccessToken != "", cfg.RefreshWindow, now)
	switch due.kind {
	case dueNothing:
		b.sched.PutBack(name, stored.scheduled(), now, claimLease)
		return workNone, nil
	case dueRefused:
		b.sched.PutBack(name, stored.scheduled(), now, claimLease)
		return workRefresh, fmt.Errorf("%w: account %q: %s", errRefreshRefused, name, due.why)
	case dueNeedsReauth:
		_, err := b.saveNeedsReauth(ctx, s, stored, now, due.why)
		return workRefresh, err
	case dueInstagramCheck, dueFacebookCheck:
		_, err := stored.login().check(ctx, b, s, meta, cfg, stored, now)
		return workCheck, err
	}
	_, err = stored.login().refresh(ctx, b, s, meta, cfg, stored, now)
	return workRefresh, err
}

// refreshAccount refreshes one account's token on an operator's request,
// whether or not the refresh is due, as its login refreshes (login.refresh):
// it refuses, as a 400, what Meta would refuse (refreshRefusal), and an
// account whose login has no refresh grant (Facebook Login). On failure the stored token stays as it was and the
// failure is recorded on the account. It returns the account as it stands
// afterwards; nil when no such account is stored.
func (b *backend) refreshAccount(ctx context.Context, s logical.Storage, name string) (*account, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	stored, err := b.loadOrUnschedule(ctx, s, name)
	if err != nil || stored == nil {
		return nil, err
	}
	meta, cfg, err := b.metaFor(ctx, s)
	if err != nil {
		return stored, err
	}
	return stored.login().refresh(ctx, b, s, meta, cfg, stored, b.clock.Now())
}

// loadOrUnschedule reads an account straight from storage for work on it;
// one no longer stored is taken off the schedule (nil, nil). The caller
// holds the account's lock.
func (b *backend) loadOrUnschedule(ctx context.Context, s logical.Storage, name string) (*account, error) {
	stored, err := loadAccount(ctx, s, name)
	if err == nil && stored == nil {
		b.sched.Remove(name)
	}
	return stored, err
}

// refreshToken refreshes an account's token at Meta with refresh (its
// login's refresh grant) and stores the outcome: the new token, or the
// failure (recordFailure) with the old token kept. The caller holds the
// account's lock and has loaded stored from storage. It returns the
// account as it stands afterwards.
func (b *backend) refreshToken(ctx context.Context, s logical.Storage, refresh func(ctx context.Context, longLived string) (*graph.LongLivedToken, error), cfg *config, stored *account, now time.Time) (*account, error) {
	name := stored.Name
	// From here the refresh finishes, and its outcome is stored, whether
	// or not a manual refresh's client still waits (detach.go).
	ctx, cancel := detached(ctx, cfg.RequestTimeout+saveTimeout)
	defer cancel()
	tok, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return refresh(ctx, stored.AccessToken)
	})
	next := stored.clone()
	if _, app := graph.AppProblemOf(err); app {
		b.stats.recordRefreshFailed(failureClassApp)
		return stored, &workError{account: name, class: graph.Classify(err),
			msg: b.appLevelFailure(stored, err, stored.AccessToken, cfg.AppSecret)}
	}
	if err != nil {
		b.recordFailure(next, err, now, cfg.AppSecret)
		if serr := b.saveAccount(ctx, s, next); serr != nil {
			return stored, serr
		}
		b.Logger().Warn("refresh failed", "account", name, "status", next.Status,
			"consecutive_failures", next.ConsecutiveFailures, "retry_at", formatTime(next.RetryAt), "error", next.LastError)
		return next, &workError{account: name, class: graph.Classify(err), msg: next.LastError}
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
		return stored, err
	}
	b.stats.recordRefresh(true)
	b.Logger().Debug("token refreshed", "account", name, "expires_at", formatTime(next.ExpiresAt))
	return next, nil
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
	return next, &workError{account: next.Name, class: graph.ClassReauth, msg: next.LastError}
}

// refreshRefusal says why Meta would refuse to refresh the token now,
// if it would: the account holds none, it expired, or it is younger than
// 24 hours. An operator may refresh an account that needs
// re-authorization: a token that Meta takes again makes it valid.
func refreshRefusal(a *account, now time.Time) error {
	switch {
	case a.AccessToken == "":
		return fmt.Errorf("%w: account %q holds no token; re-authorize it", errRefreshRefused, a.Name)
	case a.expired(now):
		return fmt.Errorf("%w: the token expired at %s and %s cannot refresh an expired token; re-authorize account %q",
			errRefreshRefused, formatTime(a.ExpiresAt), a.login().product(), a.Name)
	case schedule.TooYoungToRefresh(a.IssuedAt, now):
		return fmt.Errorf("%w: %s", errRefreshRefused, youngTokenReason(a.login(), a.IssuedAt))
	}
	return nil
}

// recordFailure counts a failed refresh and notes it on the account
// (recordRefreshFailure) without touching its token: transient failures
// back off exponentially with jitter; an invalid token or a lost
// permission needs the account owner and stops the retries.
func (b *backend) recordFailure(a *account, err error, now time.Time, appSecret string) {
	b.stats.recordRefreshFailed(graph.Classify(err).String())
	a.recordRefreshFailure(now, err, graph.Redact(err.Error(), a.AccessToken, appSecret), b.backoff)
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

// workError is the periodic work on one account that failed: a refresh
// Meta refused or could not answer, or one that can no longer succeed
// (saveNeedsReauth); or, with check, a health check that failed or found
// the token dead. The periodic work only counts a failed check; a failed
// refresh is also what a manual refresh answers (Code).
type workError struct {
	check   bool
	account string
	class   graph.Class
	msg     string
}

func (e *workError) Error() string {
	doing := "refreshing"
	if e.check {
		doing = "health check of"
	}
	return fmt.Sprintf("%s account %q failed (%s): %s", doing, e.account, e.class, e.msg)
}

// Code makes a manual refresh's failure a 502 when Meta was unavailable and
// a 400 when it refused. No request answers a failed check.
func (e *workError) Code() int {
	if e.class == graph.ClassTransient || e.class == graph.ClassThrottled {
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}
