package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

const (
	// DefaultMaxPending bounds the backlog: past it, the oldest event is
	// dropped (and counted, and logged) to make room.
	DefaultMaxPending = 20000
	// DefaultWorkers is how many deliveries run at once.
	DefaultWorkers = 4
	// MaxWorkers caps Options.Workers.
	MaxWorkers = 16
	// DefaultLinger is how far ahead a delivery run waits for a retry
	// coming due before it ends (and leaves later ones to the next
	// periodic run): it is what makes the first retries come within a
	// minute rather than at the periodic run after.
	DefaultLinger = time.Minute
	// failStreakStop ends a delivery run after this many failed attempts
	// in a row: a receiver that is down is not sent the whole backlog
	// every minute. What was not tried stays due for the next run.
	failStreakStop = 8
)

// Clock is the outbox's only source of time, so tests drive it. The
// plugin's own clock satisfies it.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// Options configure an Outbox; the zero value is production's.
type Options struct {
	Clock Clock
	// Client sends the events (nil: Go's default transport); the outbox
	// uses a copy that follows no redirect.
	Client *http.Client
	// Logger receives drops (warnings) and failed attempts (debug); it
	// never receives a body, a consent link, a secret or a URL.
	Logger hclog.Logger
	// LoggerFunc, when set, is called for the logger each time one is
	// needed instead (the plugin passes its framework backend's Logger,
	// which is set only once the backend is set up).
	LoggerFunc func() hclog.Logger
	// MaxPending bounds the backlog (<= 0: DefaultMaxPending).
	MaxPending int
	// MaxAge is how long an undelivered event is kept (<= 0:
	// DefaultMaxAge).
	MaxAge time.Duration
	// Workers is how many deliveries run at once (<= 0: DefaultWorkers,
	// at most MaxWorkers).
	Workers int
	// AttemptTimeout bounds one attempt (<= 0: DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// Jitter returns a number in [0, 1) that places each retry in its
	// back-off range (nil: math/rand).
	Jitter func() float64
	// Linger: see DefaultLinger (0: the default; negative: never wait).
	Linger time.Duration
	// After is time.After (nil), so that tests can drive the lingering.
	After func(time.Duration) <-chan time.Time
}

// Figures are what status and metrics show of the outbox. The counters
// count since the outbox was made (a plugin reload or leader change starts
// them again, as Prometheus counters do); Pending and OldestPendingAge are
// read from the backlog itself.
type Figures struct {
	// Pending is the events stored and not yet delivered or dropped.
	Pending int
	// Delivered is the events a receiver accepted (answered 2xx).
	Delivered uint64
	// FailedAttempts is the attempts that did not get a 2xx.
	FailedAttempts uint64
	// DroppedExpired is the events dropped undelivered after MaxAge;
	// DroppedBacklog those dropped, oldest first, to keep the backlog
	// within MaxPending.
	DroppedExpired uint64
	DroppedBacklog uint64
	// OldestPendingAge is the age of the oldest pending event, 0 with
	// none.
	OldestPendingAge time.Duration
	// Loaded is false until the events stored before this outbox was
	// made (a restart, a leader change) are in Pending.
	Loaded bool
}

// Dropped is every event dropped undelivered.
func (f Figures) Dropped() uint64 { return f.DroppedExpired + f.DroppedBacklog }

// Outbox is the durable queue of events. Enqueue stores an event before any
// attempt to deliver it; Run hands delivery to the outbox's own goroutines
// and returns at once. Each event is delivered at least once, with the same
// id on every attempt; an account's events are delivered in the order they
// were enqueued, each only after the one before it was delivered or
// dropped.
//
// Only one node should run an Outbox over a given store at a time (the
// plugin runs it where the refreshes run); the events of another that died
// are picked up by the next one's first Run.
type Outbox struct {
	clock      Clock
	logger     func() hclog.Logger
	deliverer  *Deliverer
	maxPending int
	maxAge     time.Duration
	workers    int
	jitter     func() float64
	linger     time.Duration
	after      func(time.Duration) <-chan time.Time

	// ctx ends the delivery goroutines when the outbox is closed.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	mu      sync.Mutex
	idx     *index
	loaded  bool
	lastSeq uint64
	// store and target are those of the latest Run: a delivery run reads
	// them at each attempt, so a config change applies at once.
	store   Store
	target  Target
	running bool
	closed  bool
	streak  int
	figures Figures
	// cond (on mu) wakes idle workers when an attempt ends, an event is
	// stored or the outbox closes; active counts attempts in flight.
	cond   *sync.Cond
	active int
}

// New returns an empty Outbox; its first Run loads what is stored.
func New(opts Options) *Outbox {
	o := &Outbox{
		clock:      opts.Clock,
		logger:     opts.LoggerFunc,
		deliverer:  NewDeliverer(opts.Client, opts.AttemptTimeout),
		maxPending: opts.MaxPending,
		maxAge:     opts.MaxAge,
		workers:    opts.Workers,
		jitter:     opts.Jitter,
		linger:     opts.Linger,
		after:      opts.After,
		wake:       make(chan struct{}, 1),
		idx:        newIndex(),
	}
	if o.clock == nil {
		o.clock = systemClock{}
	}
	if o.logger == nil {
		l := opts.Logger
		if l == nil {
			l = hclog.NewNullLogger()
		}
		o.logger = func() hclog.Logger { return l }
	}
	if o.maxPending <= 0 {
		o.maxPending = DefaultMaxPending
	}
	if o.maxAge <= 0 {
		o.maxAge = DefaultMaxAge
	}
	if o.workers <= 0 {
		o.workers = DefaultWorkers
	}
	o.workers = min(o.workers, MaxWorkers)
	if o.jitter == nil {
		o.jitter = rand.Float64
	}
	if o.linger == 0 {
		o.linger = DefaultLinger
	}
	if o.after == nil {
		o.after = time.After
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.cond = sync.NewCond(&o.mu)
	return o
}

// Enqueue stores ev, to be delivered by the next Run (which the caller may
// make at once). It fills in the id (when empty) and At (when zero), checks
// the type, bounds the text fields, and returns the event as it will be
// sent. When the backlog is full, the oldest events are dropped to make
// room. An error means nothing was stored.
func (o *Outbox) Enqueue(ctx context.Context, s Store, ev Event) (Event, error) {
	now := o.clock.Now()
	if err := ev.normalize(now); err != nil {
		return Event{}, err
	}
	if ev.ID == "" {
		id, err := NewID()
		if err != nil {
			return Event{}, err
		}
		ev.ID = id
	}
	body, err := ev.Body()
	if err != nil {
		return Event{}, fmt.Errorf("notify: encoding the event: %w", err)
	}

	// Take the event's place in its account's order before writing it, so
	// that two events of one account enqueued at once keep their order
	// whichever write ends first.
	o.mu.Lock()
	seq := max(uint64(now.UnixNano()), o.lastSeq+1)
	o.lastSeq = seq
	e := &entry{key: eventKey(seq, ev.ID), seq: seq, account: ev.Account, at: ev.At, nextAt: now}
	o.idx.add(e)
	o.mu.Unlock()

	if err := s.Put(ctx, StoragePrefix+e.key, body); err != nil {
		o.mu.Lock()
		o.idx.remove(e)
		o.mu.Unlock()
		return Event{}, fmt.Errorf("notify: storing the event: %w", err)
	}

	o.mu.Lock()
	e.ready = true
	o.idx.reschedule(e.queue)
	o.cond.Broadcast()
	victims := o.overflowLocked()
	o.mu.Unlock()
	o.dropAll(ctx, s, victims, "the backlog is full (notify max pending reached)")
	return ev, nil
}

// overflowLocked takes out of the index, and counts, the oldest events past
// maxPending; the caller deletes them from storage.
func (o *Outbox) overflowLocked() []*entry {
	var victims []*entry
	for o.idx.len() > o.maxPending {
		v := o.idx.oldestDroppable()
		if v == nil {
			break
		}
		o.idx.remove(v)
		o.figures.DroppedBacklog++
		victims = append(victims, v)
	}
	return victims
}

// dropAll deletes dropped events from storage and logs each loss.
func (o *Outbox) dropAll(ctx context.Context, s Store, victims []*entry, why string) {
	for _, v := range victims {
		o.logger().Warn("dropped an undelivered notification", "reason", why, "event_key", v.key, "account", v.account, "at", v.at.Format(time.RFC3339))
		if err := s.Delete(ctx, StoragePrefix+v.key); err != nil {
			o.logger().Warn("could not delete a dropped notification; it may be delivered after a restart", "event_key", v.key, "error", err)
		}
	}
}

// Run hands delivery off: it starts a delivery run on the outbox's own
// goroutines, or tells the one under way about new events, and returns at
// once whatever the receiver does. The run first loads what an earlier
// outbox stored, then delivers every due event (at most Options.Workers at
// once), waits for retries due within Options.Linger, and ends. With a
// zero target it delivers nothing and only drops expired events. Run
// reports whether it started a new run.
func (o *Outbox) Run(s Store, t Target) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.store, o.target = s, t
	if o.running {
		select {
		case o.wake <- struct{}{}:
		default:
		}
		return false
	}
	o.running = true
	o.wg.Add(1)
	go o.deliveryRun()
	return true
}

// Wait waits for the delivery run under way, if any, to end.
func (o *Outbox) Wait() { o.wg.Wait() }

// Close stops delivery: attempts in flight are cancelled (their events stay
// stored, to be delivered by the next outbox) and Run does nothing more.
func (o *Outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.cancel()
	o.cond.Broadcast()
	o.mu.Unlock()
	o.wg.Wait()
}

// Figures returns the outbox's figures now.
func (o *Outbox) Figures() Figures {
	now := o.clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	f := o.figures
	f.Pending = o.idx.len()
	f.Loaded = o.loaded
	if e := o.idx.oldest(); e != nil && now.After(e.at) {
		f.OldestPendingAge = now.Sub(e.at)
	}
	return f
}

// deliveryRun is one run: see Run.
func (o *Outbox) deliveryRun() {
	defer o.wg.Done()
	o.mu.Lock()
	o.streak = 0
	o.mu.Unlock()
	for {
		if !o.loadOnce() {
			o.end()
			return
		}
		o.mu.Lock()
		enabled := o.target.Enabled()
		o.mu.Unlock()
		if !enabled {
			o.expireAll()
			if o.endUnlessEnabled() {
				return
			}
			continue
		}
		o.deliverDue()
		wait, ok := o.nextWaitOrEnd()
		if !ok {
			return
		}
		if wait > 0 {
			select {
			case <-o.after(wait):
			case <-o.wake:
			case <-o.ctx.Done():
				o.end()
				return
			}
		}
	}
}

// end marks the run over.
func (o *Outbox) end() {
	o.mu.Lock()
	o.running = false
	o.mu.Unlock()
}

// endUnlessEnabled ends the run unless a Run has set a target meanwhile
// (whose events must not wait for the next periodic run).
func (o *Outbox) endUnlessEnabled() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.target.Enabled() && !o.closed {
		return false
	}
	o.running = false
	return true
}

// nextWaitOrEnd decides, under the lock that Run takes, whether the run
// goes on (and how long it waits first) or ends, so that an event enqueued
// meanwhile is never left without a run.
func (o *Outbox) nextWaitOrEnd() (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	next, ok := o.idx.nextDue()
	wait := next.Sub(o.clock.Now())
	if !ok || o.closed || o.streak >= failStreakStop || (wait > 0 && wait > o.linger) {
		// (Something due now, enqueued as the workers ended, goes on
		// whatever the linger.)
		o.running = false
		return 0, false
	}
	return max(wait, 0), true
}

// loadOnce reads into the index the events an earlier outbox stored, once;
// false when storage failed (the next Run tries again).
func (o *Outbox) loadOnce() bool {
	o.mu.Lock()
	s, loaded := o.store, o.loaded
	o.mu.Unlock()
	if loaded {
		return true
	}
	if err := o.load(o.ctx, s); err != nil {
		o.logger().Warn("could not read the stored notifications; the next periodic run retries", "error", err)
		return false
	}
	return true
}

// load indexes every stored event the index does not hold yet (those
// enqueued since this outbox was made it does). Each becomes due at once:
// the failures before the restart are not known.
func (o *Outbox) load(ctx context.Context, s Store) error {
	keys, err := s.List(ctx, StoragePrefix)
	if err != nil {
		return err
	}
	now := o.clock.Now()
	for _, key := range keys {
		seq, _, ok := parseEventKey(key)
		if !ok {
			continue
		}
		o.mu.Lock()
		_, known := o.idx.byKey[key]
		o.mu.Unlock()
		if known {
			continue
		}
		body, err := s.Get(ctx, StoragePrefix+key)
		if err != nil {
			return err
		}
		if body == nil {
			continue
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			o.logger().Warn("dropping a stored notification that cannot be read", "event_key", key)
			_ = s.Delete(ctx, StoragePrefix+key)
			continue
		}
		o.mu.Lock()
		if _, known := o.idx.byKey[key]; !known {
			o.idx.add(&entry{key: key, seq: seq, account: ev.Account, at: ev.At, nextAt: now, ready: true})
			o.lastSeq = max(o.lastSeq, seq)
		}
		o.mu.Unlock()
	}
	o.mu.Lock()
	o.loaded = true
	victims := o.overflowLocked()
	o.mu.Unlock()
	o.dropAll(ctx, s, victims, "the backlog is full (notify max pending reached)")
	return nil
}

// expireAll drops every event older than maxAge, when there is no target to
// try them against.
func (o *Outbox) expireAll() {
	now := o.clock.Now()
	o.mu.Lock()
	s := o.store
	var victims []*entry
	for {
		e := o.idx.oldestDroppable()
		if e == nil || now.Sub(e.at) < o.maxAge {
			break
		}
		o.idx.remove(e)
		o.figures.DroppedExpired++
		victims = append(victims, e)
	}
	o.mu.Unlock()
	o.dropAll(o.ctx, s, victims, "not delivered within the time events are kept")
}

// deliverDue runs the workers until nothing is due or the run stops.
func (o *Outbox) deliverDue() {
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				e, s, t := o.take()
				if e == nil {
					return
				}
				o.attempt(e, s, t)
			}
		}()
	}
	wg.Wait()
}

// take hands a worker the next due event with the store and target to use,
// or nil when the run's delivering is over. A worker finding nothing due
// waits while another is still delivering: that delivery may free its
// account's next event, and an event enqueued meanwhile must not wait for
// a slow receiver's attempt to end.
func (o *Outbox) take() (*entry, Store, Target) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if o.ctx.Err() != nil || o.streak >= failStreakStop {
			return nil, nil, Target{}
		}
		if e := o.idx.take(o.clock.Now()); e != nil {
			o.active++
			return e, o.store, o.target
		}
		if o.active == 0 {
			// Wake the other idle workers: they end too.
			o.cond.Broadcast()
			return nil, nil, Target{}
		}
		o.cond.Wait()
	}
}

// doneLocked ends a worker's attempt; the caller holds o.mu.
func (o *Outbox) doneLocked() {
	o.active--
	o.cond.Broadcast()
}

// attempt makes one delivery attempt of e and records its outcome.
func (o *Outbox) attempt(e *entry, s Store, t Target) {
	ctx := o.ctx
	body, err := s.Get(ctx, StoragePrefix+e.key)
	if err != nil || body == nil {
		o.mu.Lock()
		defer o.mu.Unlock()
		if err == nil {
			// Deleted behind the outbox's back: nothing left to send.
			o.idx.remove(e)
		} else {
			o.logger().Warn("could not read a notification to deliver; retrying later", "event_key", e.key, "error", err)
			e.nextAt = o.clock.Now().Add(RetryDelay(1, o.jitter()))
		}
		o.idx.release(e)
		o.doneLocked()
		return
	}

	err = o.deliverer.Deliver(ctx, t, body)
	now := o.clock.Now()
	if err != nil && ctx.Err() != nil {
		// Closed mid-attempt: not the receiver's failure. The event stays
		// stored for the next outbox.
		o.mu.Lock()
		o.idx.release(e)
		o.doneLocked()
		o.mu.Unlock()
		return
	}
	if err == nil {
		if derr := s.Delete(ctx, StoragePrefix+e.key); derr != nil {
			o.logger().Warn("could not delete a delivered notification; it may be delivered again after a restart", "event_key", e.key, "error", derr)
		}
		o.mu.Lock()
		o.figures.Delivered++
		o.streak = 0
		o.idx.remove(e)
		o.idx.release(e)
		o.doneLocked()
		o.mu.Unlock()
		return
	}

	o.mu.Lock()
	o.figures.FailedAttempts++
	o.streak++
	e.failures++
	failures := e.failures
	expired := now.Sub(e.at) >= o.maxAge
	if expired {
		o.figures.DroppedExpired++
		o.idx.remove(e)
	} else {
		e.nextAt = now.Add(RetryDelay(e.failures, o.jitter()))
	}
	o.idx.release(e)
	o.doneLocked()
	o.mu.Unlock()
	o.logger().Debug("a notification delivery attempt failed", "event_key", e.key, "account", e.account, "failures", failures, "error", err)
	if expired {
		o.dropAll(ctx, s, []*entry{e}, "not delivered within the time events are kept")
	}
}
