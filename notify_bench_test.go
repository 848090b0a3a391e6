package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// The notification benchmarks (issue 23, BENCHMARKS.md): how long an event
// takes from the change to the receiver, how fast 10,000 of them go out when
// a whole app's tokens are revoked at once, and what that costs the token
// reads and refreshes running meanwhile, next to the same work with no
// notify_url. Delivery is real (an httptest receiver on loopback, the
// outbox's own goroutines, wall-clock time); the engine's clock is the
// fake one, which only decides what is due.

// stampStorage is in-memory storage that records, in wall-clock time, when
// each notification event was stored: the first of the two writes a change
// makes (the event, then the account, under the account's lock), so a
// latency counted from it is not flattered.
type stampStorage struct {
	logical.InmemStorage
	mu     sync.Mutex
	stored map[string]time.Time // event id -> when its outbox write returned
}

func (s *stampStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	err := s.InmemStorage.Put(ctx, e)
	if key, ok := strings.CutPrefix(e.Key, notify.StoragePrefix); ok && err == nil {
		if _, id, found := strings.Cut(key, "-"); found {
			now := time.Now()
			s.mu.Lock()
			s.stored[id] = now
			s.mu.Unlock()
		}
	}
	return err
}

func (s *stampStorage) storedAt(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.stored[id]
	return t, ok
}

// benchReceiver is a webhook receiver that verifies each signature and
// records when each event arrived; arrived gets every event's id.
type benchReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	at      map[string]time.Time
	types   map[notify.Type]int
	bad     atomic.Int64
	arrived chan string
}

func newBenchReceiver(b *testing.B, capacity int) *benchReceiver {
	r := &benchReceiver{at: map[string]time.Time{}, types: map[notify.Type]int{}, arrived: make(chan string, capacity)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(req.Body)
		var ev notify.Event
		if json.Unmarshal(body, &ev) != nil || !notify.Verify([]byte(testNotifySecret), body, req.Header.Get(notify.SignatureHeader)) {
			r.bad.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		_, again := r.at[ev.ID]
		if !again {
			r.at[ev.ID] = now
			r.types[ev.Type]++
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		if !again {
			r.arrived <- ev.ID
		}
	}))
	b.Cleanup(r.Close)
	return r
}

func (r *benchReceiver) arrivedAt(id string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[id]
}

// notifyBench is a backend over stampStorage with n accounts issued
// issuedAgo (stored directly, as benchEnv does), their tokens, and, when
// rcv is given, notify_url pointing at it.
type notifyBench struct {
	be     *backend
	s      *stampStorage
	meta   *graphtest.Server
	tokens []string
}

func newNotifyBench(b *testing.B, n int, issuedAgo time.Duration, rcv *benchReceiver) *notifyBench {
	b.Helper()
	clk := newFakeClock()
	meta := graphtest.New(graphtest.Options{AppID: testAppID, AppSecret: testAppSecret, Now: clk.Now})
	b.Cleanup(meta.Close)
	s := &stampStorage{stored: map[string]time.Time{}}
	ep := meta.Endpoints()
	cfg := defaultConfig()
	cfg.AppID, cfg.AppSecret = testAppID, testAppSecret
	cfg.AuthBaseURL, cfg.APIBaseURL, cfg.GraphBaseURL = ep.AuthBaseURL, ep.APIBaseURL, ep.GraphBaseURL
	if rcv != nil {
		cfg.NotifyURL, cfg.NotifySecret = rcv.URL, testNotifySecret
	}
	ctx := context.Background()
	entry, _ := logical.StorageEntryJSON(configStoragePath, cfg)
	if err := s.Put(ctx, entry); err != nil {
		b.Fatal(err)
	}
	nb := &notifyBench{s: s, meta: meta, tokens: make([]string, n)}
	issued := clk.Now().Add(-issuedAgo)
	for i := range n {
		u := meta.AddUser(fmt.Sprintf("bench_%d", i))
		nb.tokens[i] = meta.MintLongLivedToken(u.UserID, nil, issued)
		a := &account{
			Name: benchAccount(i), Login: loginInstagram,
			AccessToken: nb.tokens[i], TokenType: "bearer",
			UserID: u.UserID, Username: u.Username, Status: statusValid,
			IssuedAt: issued, ExpiresAt: issued.Add(longLivedLifetime), RegisteredAt: issued,
			SchemaVersion: accountSchemaVersion, TokenKind: tokenKindUser,
		}
		entry, _ := logical.StorageEntryJSON(accountStoragePrefix+a.Name, a)
		if err := s.Put(ctx, entry); err != nil {
			b.Fatal(err)
		}
	}
	conf := logical.TestBackendConfig()
	conf.StorageView = s
	conf.Logger = hclog.NewNullLogger()
	nb.be = newBackend(backendOptions{clock: clk})
	if err := nb.be.Setup(ctx, conf); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nb.be.outbox.Close)
	if err := nb.be.rebuildSchedule(ctx, s); err != nil {
		b.Fatal(err)
	}
	return nb
}

func benchAccount(i int) string { return fmt.Sprintf("acct-%07d", i) }

// pct is the p-th percentile (0 < p <= 100) of sorted ds, nearest rank.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkNotifyDeliveryLatency makes 1,000 accounts need
// re-authorization one at a time (Meta revokes the token, a manual refresh
// finds it out) and waits for each event at the receiver before the next
// change. delivery-p50/p99-ms count from the event's storage write (made
// under the account's lock before the account's own) to its arrival;
// from-refresh-p50/p99-ms from the start of the refresh request that found
// the revocation (its call to Meta included). refresh-p50/p99-ms is that
// request's own duration, with and without notify_url.
func BenchmarkNotifyDeliveryLatency(b *testing.B) {
	const n = 1_000
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("notify=%v", on), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				var rcv *benchReceiver
				if on {
					rcv = newBenchReceiver(b, n)
				}
				nb := newNotifyBench(b, n, 40*24*time.Hour, rcv)
				var refresh, delivery, fromRefresh []time.Duration
				b.StartTimer()
				for i := range n {
					nb.meta.Revoke(nb.tokens[i])
					start := time.Now()
					resp, err := nb.be.HandleRequest(context.Background(), &logical.Request{
						Operation: logical.UpdateOperation, Path: "accounts/" + benchAccount(i) + "/refresh", Storage: nb.s,
					})
					refresh = append(refresh, time.Since(start))
					if err == nil && (resp == nil || !resp.IsError()) {
						b.Fatalf("the refresh of a revoked token succeeded")
					}
					if !on {
						continue
					}
					select {
					case id := <-rcv.arrived:
						stored, ok := nb.s.storedAt(id)
						if !ok {
							b.Fatalf("event %s arrived but was never stored", id)
						}
						arrived := rcv.arrivedAt(id)
						delivery = append(delivery, arrived.Sub(stored))
						fromRefresh = append(fromRefresh, arrived.Sub(start))
					case <-time.After(time.Minute):
						b.Fatalf("no event for change %d within a minute", i)
					}
				}
				b.StopTimer()
				if got := nb.be.sched.Figures().ByStatus[statusNeedsReauth]; got != n {
					b.Fatalf("%d of %d accounts need re-authorization", got, n)
				}
				slices.Sort(refresh)
				b.ReportMetric(ms(pct(refresh, 50)), "refresh-p50-ms")
				b.ReportMetric(ms(pct(refresh, 99)), "refresh-p99-ms")
				if on {
					if rcv.bad.Load() != 0 || rcv.types[notify.NeedsReauth] != n {
						b.Fatalf("receiver: %d bad, %v", rcv.bad.Load(), rcv.types)
					}
					slices.Sort(delivery)
					slices.Sort(fromRefresh)
					b.ReportMetric(ms(pct(delivery, 50)), "delivery-p50-ms")
					b.ReportMetric(ms(pct(delivery, 99)), "delivery-p99-ms")
					b.ReportMetric(ms(delivery[len(delivery)-1]), "delivery-max-ms")
					b.ReportMetric(ms(pct(fromRefresh, 50)), "from-refresh-p50-ms")
					b.ReportMetric(ms(pct(fromRefresh, 99)), "from-refresh-p99-ms")
				}
				b.StartTimer()
			}
		})
	}
}

// readEvery paces the token reads: 1,000 a second, the order of what
// Vault serves at 16 connections on this machine (BENCHMARKS.md). A reader
// reading back to back would take a CPU for itself and starve the very
// refreshes whose figures are measured (a first version did: with it the
// wave ran at 0.55 to 0.65 times its pace without notifications, CPU
// starvation rather than the outbox); paced, its latencies show what the
// wave costs a read, and reads/s well below 1,000 that it fell behind.
const readEvery = time.Millisecond

// readLoop reads token/<name> through HandleRequest (the fast read path)
// every readEvery until stop is closed, and returns each read's duration.
func readLoop(b *testing.B, be *backend, s logical.Storage, name string, stop <-chan struct{}) []time.Duration {
	req := &logical.Request{Operation: logical.ReadOperation, Path: tokenPathPrefix + name, Storage: s}
	var ds []time.Duration
	tick := time.NewTicker(readEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return ds
		case <-tick.C:
		}
		start := time.Now()
		resp, err := be.HandleRequest(context.Background(), req)
		ds = append(ds, time.Since(start))
		if err != nil || resp == nil || resp.IsError() {
			b.Errorf("token read: %v %v", err, resp)
			return ds
		}
	}
}

// readsFor runs readLoop for d and reports reads/s and p50/p99 under prefix.
func readsFor(b *testing.B, be *backend, s logical.Storage, name string, d time.Duration, prefix string) {
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	reportReads(b, readLoop(b, be, s, name, stop), d, prefix)
}

func reportReads(b *testing.B, ds []time.Duration, window time.Duration, prefix string) {
	slices.Sort(ds)
	b.ReportMetric(float64(len(ds))/window.Seconds(), prefix+"reads/s")
	b.ReportMetric(us(pct(ds, 50)), prefix+"read-p50-us")
	b.ReportMetric(us(pct(ds, 99)), prefix+"read-p99-us")
}

// BenchmarkNotifyRevocationWave is an app-wide revocation: Meta revokes the
// tokens of 10,000 accounts at once, all due, among 2,000 healthy due
// accounts. The periodic work runs (twice: a run takes at most 10,000
// accounts) until all 12,000 are done, the 10,000 needs_reauth and the
// 2,000 refreshed, with one goroutine reading a third account's token
// (readEvery) meanwhile; with notify_url set it then waits for the 10,000
// events at the receiver. Meta is the in-process fake, first with no added
// latency and the default 4 refresh workers, so refreshes are CPU-bound
// and share the CPUs with the outbox's deliveries and the receiver (the
// harshest case for "refreshes keep their figures"), then answering in
// 50 ms as Graph does, with 64 workers. idle- figures are the same reads
// with nothing else running, before the wave.
func BenchmarkNotifyRevocationWave(b *testing.B) {
	for _, c := range []struct {
		latency time.Duration
		workers int
	}{{0, defaultRefreshConcurrency}, {50 * time.Millisecond, 64}} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("meta-latency=%v/workers=%d/notify=%v", c.latency, c.workers, on), func(b *testing.B) {
				revocationWave(b, c.latency, c.workers, on)
			})
		}
	}
}

func revocationWave(b *testing.B, latency time.Duration, workers int, on bool) {
	const (
		revoked = 10_000
		healthy = 2_000
		reader  = revoked + healthy // issued an hour ago: never due
	)
	for b.Loop() {
		b.StopTimer()
		var rcv *benchReceiver
		if on {
			rcv = newBenchReceiver(b, revoked)
		}
		nb := newNotifyBench(b, reader, 40*24*time.Hour, rcv)
		ctx := context.Background()
		cfg, err := nb.be.readConfig(ctx, nb.s)
		if err != nil {
			b.Fatal(err)
		}
		c := *cfg
		c.RefreshConcurrency = workers
		if err := nb.be.writeConfig(ctx, nb.s, &c); err != nil {
			b.Fatal(err)
		}
		nb.meta.SetLatency(latency)
		// The reader's account, fresh: nothing is due for it.
		fresh := nb.be.clock.Now().Add(-time.Hour)
		u := nb.meta.AddUser("reader")
		ra := &account{
			Name: benchAccount(reader), Login: loginInstagram,
			AccessToken: nb.meta.MintLongLivedToken(u.UserID, nil, fresh), TokenType: "bearer",
			UserID: u.UserID, Username: u.Username, Status: statusValid,
			IssuedAt: fresh, ExpiresAt: fresh.Add(longLivedLifetime), RegisteredAt: fresh,
			SchemaVersion: accountSchemaVersion, TokenKind: tokenKindUser,
		}
		if err := nb.be.saveAccount(ctx, nb.s, ra); err != nil {
			b.Fatal(err)
		}
		readsFor(b, nb.be, nb.s, ra.Name, time.Second, "idle-")

		// Spread the revoked among the healthy: the schedule
		// takes them in its own order anyway.
		var revokedIdx []int
		for i := range revoked + healthy {
			if i%6 != 5 {
				revokedIdx = append(revokedIdx, i)
			}
		}
		if len(revokedIdx) != revoked {
			b.Fatalf("%d revoked", len(revokedIdx))
		}
		for _, i := range revokedIdx {
			nb.meta.Revoke(nb.tokens[i])
		}

		stop := make(chan struct{})
		reads := make(chan []time.Duration, 1)
		b.StartTimer()
		start := time.Now()
		go func() { reads <- readLoop(b, nb.be, nb.s, ra.Name, stop) }()
		req := &logical.Request{Storage: nb.s}
		runs := 0
		done := func() int64 {
			st := nb.be.stats.snapshot()
			return st.refreshesSucceeded + st.refreshesFailed
		}
		for done() < revoked+healthy {
			if runs++; runs > 4 {
				b.Fatalf("after %d periodic runs: %d accounts done", runs-1, done())
			}
			if err := nb.be.periodic(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		waveEnd := time.Now()
		close(stop)
		waveReads := <-reads
		var pendingAtEnd int
		var lastArrival time.Time
		var delivery []time.Duration
		if on {
			pendingAtEnd = nb.be.outbox.Figures().Pending
			timeout := time.After(2 * time.Minute)
			for range revoked {
				select {
				case id := <-rcv.arrived:
					stored, ok := nb.s.storedAt(id)
					if !ok {
						b.Fatalf("event %s arrived but was never stored", id)
					}
					at := rcv.arrivedAt(id)
					delivery = append(delivery, at.Sub(stored))
					if at.After(lastArrival) {
						lastArrival = at
					}
				case <-timeout:
					b.Fatalf("not every event arrived within 2 minutes: %+v", nb.be.outbox.Figures())
				}
			}
		}
		b.StopTimer()

		ok := nb.be.stats.snapshot().refreshesSucceeded
		if got := nb.be.sched.Figures().ByStatus[statusNeedsReauth]; got != revoked || ok != healthy {
			b.Fatalf("%d need re-authorization (want %d), %d refreshed (want %d)", got, revoked, ok, healthy)
		}
		wave := waveEnd.Sub(start)
		b.ReportMetric(wave.Seconds(), "wave-s")
		b.ReportMetric(float64(runs), "periodic-runs")
		b.ReportMetric(float64(revoked+healthy)/wave.Seconds(), "accounts/s")
		reportReads(b, waveReads, wave, "wave-")
		if on {
			if rcv.bad.Load() != 0 || rcv.types[notify.NeedsReauth] != revoked || len(rcv.types) != 1 {
				b.Fatalf("receiver: %d bad, %v", rcv.bad.Load(), rcv.types)
			}
			slices.Sort(delivery)
			all := lastArrival.Sub(start)
			b.ReportMetric(all.Seconds(), "last-event-s")
			b.ReportMetric(lastArrival.Sub(waveEnd).Seconds(), "last-after-wave-s")
			b.ReportMetric(float64(revoked)/all.Seconds(), "events/s")
			b.ReportMetric(float64(pendingAtEnd), "pending-at-wave-end")
			b.ReportMetric(ms(pct(delivery, 50)), "delivery-p50-ms")
			b.ReportMetric(ms(pct(delivery, 99)), "delivery-p99-ms")
			b.ReportMetric(ms(delivery[len(delivery)-1]), "delivery-max-ms")
		}
		b.StartTimer()
	}
}
