// Package instagram is a Vault secrets engine that keeps Instagram access
// tokens alive: it stores a Meta app's credentials, registers Instagram
// accounts, refreshes their long-lived tokens before they expire, and serves
// the current token on token/<name> to whoever policy allows.
package instagram

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cleanhttp "github.com/hashicorp/go-cleanhttp"
	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

const backendHelp = `
The Instagram secrets engine keeps Instagram access tokens alive.

Store the Meta app's credentials in "config", register each Instagram account
once on "accounts/<name>" (with an authorization code or an access token), and
read the current token on "token/<name>". The engine refreshes every
long-lived token before it expires, from Vault's periodic function.
`

// Factory is the logical.Factory Vault calls to create a mount of the plugin.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	pin, err := pinBaseURLsFromEnv()
	if err != nil {
		return nil, err
	}
	b := newBackend(backendOptions{crashPoint: crashPointFromEnv(), pinBaseURLs: pin, clock: clockFromEnv()})
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

// maxMetaHeaderBytes bounds the response headers the engine reads from Meta.
const maxMetaHeaderBytes = 256 << 10

// backendOptions are the seams tests use; the zero value is production.
type backendOptions struct {
	clock      clock
	httpClient *http.Client
	// jitter returns a factor in [0.8, 1.2) applied to back-off delays; tests
	// make it deterministic.
	jitter func() float64
	// crashPoint stops writes at named points (test builds only).
	crashPoint crashPointFunc
	// tickBudget returns the context that bounds handing out one periodic
	// run's work (default: tickBudget from now); tests end it when they
	// choose.
	tickBudget func(context.Context) (context.Context, context.CancelFunc)
	// pinBaseURLs pins every base URL to Meta's default (pin_base_urls.go;
	// Factory reads it from the plugin's environment).
	pinBaseURLs bool
	// notify adjusts the notification outbox's options (tests: no
	// lingering, fixed jitter); nil is production's.
	notify func(*notify.Options)
}

// metaIdleConnsPerHost is how many idle connections to each Meta host the
// default HTTP client keeps for reuse.
const metaIdleConnsPerHost = 64

// backend owns everything a mount needs: its clock, its HTTP client, its
// refresh schedule and its caches. Nothing lives in package-level state, so
// several mounts in one multiplexed plugin process never share anything.
// Its fields are grouped by concern, each group under a comment.
type backend struct {
	*framework.Backend

	// Seams (backendOptions): the only sources of time, randomness and
	// network, so tests drive them.
	clock      clock
	httpClient *http.Client
	jitter     func() float64
	tickBudget func(context.Context) (context.Context, context.CancelFunc)

	// The request front door (handle_request.go): tokenFields is
	// token/<name>'s schema, shared by the framework's path and
	// fastTokenRead; proxyFields proxy/'s, shared with fastProxyRead.
	tokenFields map[string]*framework.FieldSchema
	proxyFields map[string]*framework.FieldSchema

	// The Meta app. configMu guards the decoded config, the Meta client
	// built from it and configGen, bumped by every write, delete and
	// invalidation of the config (see readConfig). configWriteMu
	// serialises config writes and deletes: each reads, changes and stores
	// the config, then caches and reschedules.
	configMu      sync.RWMutex
	config        *config
	meta          metaClient
	configGen     uint64
	configWriteMu sync.Mutex
	// appToken is the Meta app's access token (app-token), in memory only.
	appToken appTokenCache
	// appPause is Meta's app-wide throttle (code 4): until when every call
	// waits, and why; appHealth is what Meta's answers say about the app
	// as a whole (apphealth.go).
	appPause  appPause
	appHealth *appHealth

	// Accounts. locks serialise every operation that writes one account
	// (register, refresh, delete), keyed by account name; cache holds
	// decoded accounts for token reads.
	locks []*locksutil.LockEntry
	cache *accountCache

	// The refresh schedule and the periodic work. ticking keeps periodic
	// ticks from overlapping: Vault may call PeriodicFunc again while a
	// slow tick is still running. rebuildMu lets one schedule rebuild read
	// storage at a time.
	sched     *schedule.Queue
	ticking   atomic.Bool
	rebuildMu sync.Mutex
	// index orders the writers of the schedule index's shards (schedule_index.go).
	index scheduleIndex
	// mountKey is the mount's secret (mount_key.go), once loaded; under
	// mountKeyMu.
	mountKeyMu sync.Mutex
	mountKey   []byte
	// crashPoint is nil but in test builds (crashpoint.go).
	crashPoint crashPointFunc
	// pinBaseURLs: the plugin's operator pinned every base URL to Meta's
	// default (VAULT_INSTAGRAM_PIN_BASE_URLS, pin_base_urls.go).
	pinBaseURLs bool

	// Background work: bgCtx ends, and bgWG waits for, what runs beyond a
	// request (the schedule rebuild) when the mount goes.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgWG     sync.WaitGroup

	// Observability: stats are the counters status shows, metrics the
	// families served on the metrics path (metrics.go); refusals
	// rate-limits what the unauthenticated paths log about the requests
	// they refuse.
	stats    *engineStats
	metrics  *engineMetrics
	refusals *refusalLog
	// signedRequestLog rate-limits the lines about valid signed requests
	// (noteSignedRequest).
	signedRequestLog *refusalLog

	// The unauthenticated callbacks' records. stateMu makes taking an
	// authorization state atomic: two callbacks carrying the same state
	// cannot both get it; lastStateSweep is when expired states were last
	// deleted (Unix nanoseconds).
	// pendingStates counts the stored states once pendingCounted (under
	// stateMu); stateSweepAfter is the state the last sweep stopped after
	// (the periodic run's alone), and stateSweepBacklog says it stopped
	// at its bound.
	stateMu           sync.Mutex
	lastStateSweep    atomic.Int64
	pendingStates     int
	pendingCounted    bool
	stateSweepAfter   string
	stateSweepBacklog atomic.Bool
	// signedRequestMu serialises acting on accepted signed requests
	// (signed_request_records.go). lastRecordSweep is when the callbacks'
	// expired records were last swept (Unix nanoseconds);
	// recordSweepBacklog says that sweep stopped at its bound, and
	// deletionSweepAfter (under sweepMu) the deletion record it stopped
	// after.
	signedRequestMu    sync.Mutex
	lastRecordSweep    atomic.Int64
	recordSweepBacklog atomic.Bool
	sweepMu            sync.Mutex
	deletionSweepAfter string

	// Notifications (notify.go): the outbox of signed webhook events, and
	// whether the last app event sent said the app is paused.
	outbox           *notify.Outbox
	appPauseNotified atomic.Bool
}

func newBackend(opts backendOptions) *backend {
	b := &backend{
		clock:      opts.clock,
		httpClient: opts.httpClient,
		jitter:     opts.jitter,
		crashPoint: opts.crashPoint,
		tickBudget: opts.tickBudget,
		locks:      locksutil.CreateLocks(),
		cache:      newAccountCache(),
		sched:      schedule.NewQueue(defaultRefreshWindow),
		stats:      newEngineStats(),
		refusals:   newRefusalLog(refusalLogEvery),
		signedRequestLog: newRateLimitedLog(refusalLogEvery, hclog.Info,
			"signed request lines not logged (at most one line a minute per path)"),
		appHealth: newAppHealth(),
		tokenFields: map[string]*framework.FieldSchema{
			"name": accountNameField(),
		},
		proxyFields: proxyFields(),
	}
	b.pinBaseURLs = opts.pinBaseURLs
	if b.clock == nil {
		b.clock = systemClock{}
	}
	if b.httpClient == nil {
		// A pooled client: refreshes reuse connections to Meta. Per-call
		// deadlines come from the request context (config request_timeout).
		b.httpClient = cleanhttp.DefaultPooledClient()
		// Meta's headers run to a few KiB; net/http would read 10 MiB of
		// them (bodies are bounded at 1 MiB by the graph client).
		t := b.httpClient.Transport.(*http.Transport)
		t.MaxResponseHeaderBytes = maxMetaHeaderBytes
		// Every call goes to one of a few Meta hosts, many at once
		// (refresh_concurrency, and applications through proxy/): keep
		// enough idle connections per host that they are reused rather
		// than opened (a TLS handshake each) and closed; the pooled
		// default keeps GOMAXPROCS+1.
		t.MaxIdleConnsPerHost = metaIdleConnsPerHost
	}
	if b.jitter == nil {
		b.jitter = defaultJitter
	}
	if b.tickBudget == nil {
		b.tickBudget = func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, tickBudget)
		}
	}
	b.stats.startedAt = b.clock.Now()
	b.metrics = newEngineMetrics(b)
	b.outbox = newOutbox(b, opts.notify)
	b.bgCtx, b.bgCancel = context.WithCancel(context.Background())

	b.Backend = &framework.Backend{
		Help:        strings.TrimSpace(backendHelp),
		BackendType: logical.TypeLogical,
		PathsSpecial: &logical.Paths{
			// Tokens and the app secret are wrapped with the seal where
			// the Vault server supports seal wrapping.
			SealWrapStorage: []string{
				configStoragePath,
				accountStoragePrefix,
				mountKeyPath,
				// Undelivered events may carry a consent link.
				notify.StoragePrefix,
			},
			// Pending authorization states are short-lived and single-use:
			// replicating them would only spread them. auth-url and the
			// callback both run on the primary's active node (they are
			// forwarded there), so that is where states live.
			LocalStorage: []string{
				stateStoragePrefix,
				signedRequestStoragePrefix,
				signedRequestHorizonPath,
				// Events are delivered where the refreshes run, on this
				// cluster's active node, and may carry a consent link:
				// another cluster has nothing to do with them.
				notify.StoragePrefix,
			},
			// Meta calls these, and the account owner's browser lands on
			// the callback: neither holds a Vault token. Each checks its
			// own credential (a state, a signed_request).
			Unauthenticated: []string{
				"callback",
				"deauthorize",
				"data-deletion",
				"data-deletion/*",
			},
		},
		Paths: framework.PathAppend(
			pathConfig(b),
			pathAccounts(b),
			pathRefresh(b),
			pathToken(b),
			pathProxy(b),
			pathStatus(b),
			pathMetrics(b),
			pathMetricsAccounts(b),
			pathAuthURL(b),
			pathCallback(b),
			pathDeauthorize(b),
			pathDataDeletion(b),
			pathPages(b),
			pathAppToken(b),
		),
		InitializeFunc: b.initialize,
		PeriodicFunc:   b.periodic,
		Invalidate:     b.invalidate,
		Clean:          b.clean,
		RunningVersion: Version,
	}
	// Every operation refuses fields its path does not define
	// (handle_request.go, step 4 of the front door).
	b.guardOperations(b.Backend.Paths)
	return b
}

// initialize starts building the in-memory refresh schedule from storage
// when the mount starts (on the active node after a leader change too), so a
// periodic tick costs O(accounts due).
func (b *backend) initialize(ctx context.Context, req *logical.InitializationRequest) error {
	// The mount's key first (one read; one write on a mount's first start):
	// no shard is written before it is known. A failure is retried by the
	// rebuild and by the first write that needs it.
	if _, err := b.loadMountKey(ctx, req.Storage); err != nil && !errors.Is(err, errNoMountKey) {
		b.Logger().Warn("could not load the mount's key; retried when needed", "error", err)
	}
	b.startScheduleRebuild(req.Storage)
	return nil
}

// invalidate is called on performance standbys and secondaries when a key
// they may have cached was written elsewhere.
func (b *backend) invalidate(_ context.Context, key string) {
	switch {
	case key == configStoragePath:
		b.resetConfig()
	case strings.HasPrefix(key, accountStoragePrefix):
		b.cache.drop(strings.TrimPrefix(key, accountStoragePrefix))
	}
}

func (b *backend) clean(_ context.Context) {
	b.bgCancel()
	b.bgWG.Wait()
	b.outbox.Close()
	b.httpClient.CloseIdleConnections()
}

// accountLock is the lock that serialises writes to one account.
func (b *backend) accountLock(name string) *locksutil.LockEntry {
	return locksutil.LockForKey(b.locks, name)
}

// lockAccount takes the per-account write lock and returns its unlock.
func (b *backend) lockAccount(name string) func() {
	l := b.accountLock(name)
	l.Lock()
	return l.Unlock
}

// clock is the backend's only source of time, so tests drive time instead of
// sleeping.
type clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }
