package instagram

import (
	"context"
	"fmt"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// benchEnv is a backend whose storage holds n accounts issued issuedAgo,
// written straight to storage (registration through Meta would dominate the
// set-up). The backend and the fake Meta share one clock.
func benchEnv(b *testing.B, n int, issuedAgo time.Duration) (*backend, logical.Storage, *graphtest.Server) {
	b.Helper()
	clk := newFakeClock()
	meta := graphtest.New(graphtest.Options{AppID: testAppID, AppSecret: testAppSecret, Now: clk.Now})
	b.Cleanup(meta.Close)
	s := &logical.InmemStorage{}
	ep := meta.Endpoints()
	cfg := defaultConfig()
	cfg.AppID, cfg.AppSecret = testAppID, testAppSecret
	cfg.AuthBaseURL, cfg.APIBaseURL, cfg.GraphBaseURL = ep.AuthBaseURL, ep.APIBaseURL, ep.GraphBaseURL
	entry, _ := logical.StorageEntryJSON(configStoragePath, cfg)
	if err := s.Put(context.Background(), entry); err != nil {
		b.Fatal(err)
	}
	issued := clk.Now().Add(-issuedAgo)
	for i := range n {
		u := meta.AddUser(fmt.Sprintf("bench_%d", i))
		a := &account{
			Name: fmt.Sprintf("acct-%07d", i), Login: loginInstagram,
			AccessToken: meta.MintLongLivedToken(u.UserID, nil, issued), TokenType: "bearer",
			UserID: u.UserID, Username: u.Username, Status: statusValid,
			IssuedAt: issued, ExpiresAt: issued.Add(longLivedLifetime), RegisteredAt: issued,
			SchemaVersion: accountSchemaVersion, TokenKind: tokenKindUser,
		}
		entry, _ := logical.StorageEntryJSON(accountStoragePrefix+a.Name, a)
		if err := s.Put(context.Background(), entry); err != nil {
			b.Fatal(err)
		}
	}
	conf := logical.TestBackendConfig()
	conf.StorageView = s
	conf.Logger = hclog.NewNullLogger()
	be := newBackend(backendOptions{clock: clk})
	if err := be.Setup(context.Background(), conf); err != nil {
		b.Fatal(err)
	}
	return be, s, meta
}

// BenchmarkTickNothingDue measures a periodic run that finds nothing due:
// its cost must not grow with the number of accounts held.
func BenchmarkTickNothingDue(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			be, s, _ := benchEnv(b, n, time.Hour)
			if err := be.rebuildSchedule(context.Background(), s); err != nil {
				b.Fatal(err)
			}
			req := &logical.Request{Storage: s}
			b.ResetTimer()
			for b.Loop() {
				if err := be.periodic(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if be.stats.snapshot().refreshesSucceeded != 0 {
				b.Fatal("something was refreshed")
			}
		})
	}
}

// BenchmarkTickNothingDueMillion is BenchmarkTickNothingDue at a million
// accounts (issue 17), the schedule built from records as a rebuild from
// the index builds it (storing a million accounts would take minutes and
// gigabytes; a run with nothing due reads none of them).
func BenchmarkTickNothingDueMillion(b *testing.B) {
	be, s, _ := benchEnv(b, 0, time.Hour)
	now := be.clock.Now()
	recs := freshRecords(1_000_000, now)
	be.sched.Replace(defaultRefreshWindow, recs, now)
	recs = nil
	req := &logical.Request{Storage: s}
	if err := be.periodic(context.Background(), req); err != nil { // flushes nothing: the index is not dirty
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := be.periodic(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if be.stats.snapshot().refreshesSucceeded != 0 || be.sched.Figures().Total != 1_000_000 {
		b.Fatal("something was refreshed, or lost")
	}
}

// BenchmarkScheduleRebuild measures building the schedule from storage at
// plugin start (in-memory storage: the plugin's share of the work): from
// the schedule index, and from the accounts as a mount without an index
// does once (the migration, index writes included).
func BenchmarkScheduleRebuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, from := range []string{"index", "accounts"} {
			b.Run(fmt.Sprintf("from=%s/accounts=%d", from, n), func(b *testing.B) {
				be, s, _ := benchEnv(b, n, time.Hour)
				if err := be.rebuildSchedule(context.Background(), s); err != nil {
					b.Fatal(err) // the migration: the index exists from here
				}
				b.ResetTimer()
				for b.Loop() {
					if from == "accounts" {
						b.StopTimer()
						if err := s.Delete(context.Background(), indexMetaPath); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					if err := be.rebuildSchedule(context.Background(), s); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if got := be.sched.Figures().Total; got != n {
					b.Fatalf("schedule holds %d of %d", got, n)
				}
			})
		}
	}
}

// BenchmarkFindUsersAccounts measures how Meta's deauthorize and
// data-deletion callbacks find a user's accounts: in the built schedule, and
// by reading every account from storage (the fallback before the first
// build, and what the engine did before). Storage is in memory here; in
// Vault each read is also a gRPC round trip.
func BenchmarkFindUsersAccounts(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		be, s, _ := benchEnv(b, n, time.Hour)
		if err := be.rebuildSchedule(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		target, err := loadAccount(context.Background(), s, fmt.Sprintf("acct-%07d", n/2))
		if err != nil || target == nil {
			b.Fatal("no account to look for", err)
		}
		for _, how := range []string{"schedule", "storage"} {
			b.Run(fmt.Sprintf("accounts=%d/%s", n, how), func(b *testing.B) {
				if how == "storage" {
					be.sched = schedule.NewQueue(defaultRefreshWindow) // not built: the scan
				}
				for b.Loop() {
					names, err := be.accountsOfUser(context.Background(), s, target.UserID)
					if err != nil || len(names) != 1 || names[0] != target.Name {
						b.Fatalf("found %v, %v", names, err)
					}
				}
			})
		}
	}
}

// BenchmarkRefreshDue refreshes 10,000 due accounts against the fake Meta
// with 50 ms of added latency per call. The ideal rate is workers/latency;
// the benchmark reports the achieved rate and its ratio to the ideal.
func BenchmarkRefreshDue(b *testing.B) {
	const (
		n       = 10_000
		latency = 50 * time.Millisecond
	)
	for _, workers := range []int{16, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				be, s, meta := benchEnv(b, n, 40*24*time.Hour)
				cfg, _ := be.readConfig(context.Background(), s)
				c := *cfg
				c.RefreshConcurrency = workers
				if err := be.writeConfig(context.Background(), s, &c); err != nil {
					b.Fatal(err)
				}
				if err := be.rebuildSchedule(context.Background(), s); err != nil {
					b.Fatal(err)
				}
				meta.SetLatency(latency)
				claims := be.sched.ClaimDue(be.clock.Now(), n, claimLease)
				b.StartTimer()

				start := time.Now()
				refreshed, failed := be.runRefreshes(context.Background(), context.Background(), s, workers, claims)
				elapsed := time.Since(start)

				b.StopTimer()
				meta.Close()
				if refreshed != n || failed != 0 {
					b.Fatalf("refreshed %d, failed %d", refreshed, failed)
				}
				if mc := meta.MaxConcurrent(); mc > workers {
					b.Fatalf("Meta saw %d concurrent calls with %d workers", mc, workers)
				}
				rate := float64(n) / elapsed.Seconds()
				ideal := float64(workers) / latency.Seconds()
				b.ReportMetric(rate, "refreshes/s")
				b.ReportMetric(rate/ideal, "ratio-to-ideal")
				b.StartTimer()
			}
		})
	}
}

// freshRecords are n Instagram Login accounts as a rebuild reads them from
// the index, each issued within the hour before now: nothing is due for a
// day.
func freshRecords(n int, now time.Time) []schedule.Record {
	recs := make([]schedule.Record, n)
	for i := range recs {
		name := fmt.Sprintf("acct-%06d", i)
		issued := now.Add(-time.Duration(i%3600) * time.Second)
		recs[i] = schedule.Record{Name: name, Account: schedule.Account{
			IssuedAt: issued, ExpiresAt: issued.Add(longLivedLifetime), RegisteredAt: issued,
			Status: statusValid, Login: loginInstagram, CheckOffset: schedule.CheckOffset(name),
			Scopes: []string{"instagram_business_basic"},
		}}
	}
	return recs
}
