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
