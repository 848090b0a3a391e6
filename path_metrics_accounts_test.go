package instagram

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// answerText is everything a response says: its error, its raw body, its
// data and its warnings.
func answerText(resp *logical.Response, err error) string {
	var sb strings.Builder
	if err != nil {
		sb.WriteString(err.Error())
	}
	if resp != nil {
		for k, v := range resp.Data {
			if body, ok := v.([]byte); ok {
				v = string(body)
			}
			fmt.Fprintf(&sb, "\n%s=%v", k, v)
		}
		sb.WriteString(strings.Join(resp.Warnings, "\n"))
	}
	return sb.String()
}

// TestMetricsNamesNoAccountWhateverTheParameters: the metrics path, all
// that the shipped metrics policy lets Prometheus read, names no account
// and no Instagram user, whatever parameters the scrape sends (accounts=true,
// which used to add named series, is refused with a 400 saying where they
// went); per-account series are on metrics/accounts, a path of its own.
func TestMetricsNamesNoAccountWhateverTheParameters(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.registerLongLived("gone", "gone_user", e.clock.Now())
	e.clock.Advance(25 * time.Hour)
	e.meta.Revoke(e.account("gone").AccessToken)
	_, _ = e.write("accounts/gone/refresh", nil)

	for _, q := range []map[string]any{
		nil,
		{"accounts": true}, {"accounts": "1"}, {"accounts": "true", "format": "json"},
		{"format": "json"}, {"format": "prometheus"},
		{"limit": 10}, {"after": ""}, {"account": "shop"}, {"status": statusNeedsReauth}, {"name": "shop"},
	} {
		resp, err := e.do(logical.ReadOperation, "metrics", q)
		text := answerText(resp, err)
		for _, name := range []string{"shop", "gone"} { // also in shop_user, gone_user
			if strings.Contains(text, name) {
				t.Errorf("metrics %v names an account (%q): %.300s", q, name, text)
			}
		}
	}
	resp, err := e.do(logical.ReadOperation, "metrics", map[string]any{"accounts": true})
	e.mustFail(resp, err, "accounts:")
	if !strings.Contains(answerText(resp, err), "metrics/accounts") {
		t.Errorf("the refusal of accounts=true does not say where the series went: %s", answerText(resp, err))
	}
}

// setAccountFigures puts accounts straight into the schedule, which is all
// the per-account metrics read.
func (e *testEnv) setAccountFigures(accounts map[string]schedule.Account) {
	e.t.Helper()
	for name, a := range accounts {
		e.b.sched.Set(name, a)
	}
}

// accountSeries is the accounts metrics/accounts answered series for, by
// status.
func (s scrape) accountSeries() map[string]string {
	out := map[string]string{}
	if f, ok := s.families["vault_instagram_account_status"]; ok {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["account"]] = labels["status"]
		}
	}
	return out
}

// TestAccountMetricsAreTheMostUrgentAccountsBoundedByLimit: metrics/accounts
// answers per-account series for at most limit accounts (default 100, 1 to
// 1000), the most urgent first (needs_reauth, refresh_failing, expiring,
// valid; then the soonest expiry), and says how many it left out.
func TestAccountMetricsAreTheMostUrgentAccountsBoundedByLimit(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	now := e.clock.Now()
	e.setAccountFigures(map[string]schedule.Account{
		"late":    {Status: statusValid, Login: loginInstagram, IssuedAt: now, ExpiresAt: now.Add(50 * 24 * time.Hour)},
		"soon":    {Status: statusValid, Login: loginInstagram, IssuedAt: now, ExpiresAt: now.Add(40 * 24 * time.Hour)},
		"dead":    {Status: statusNeedsReauth, Login: loginInstagram, IssuedAt: now, ExpiresAt: now.Add(55 * 24 * time.Hour)},
		"failing": {Status: statusRefreshFailing, Login: loginInstagram, IssuedAt: now, ExpiresAt: now.Add(58 * 24 * time.Hour)},
	})
	for _, c := range []struct {
		limit   any
		want    []string
		omitted float64
	}{
		{1, []string{"dead"}, 3},
		{2, []string{"dead", "failing"}, 2},
		{3, []string{"dead", "failing", "soon"}, 1},
		{nil, []string{"dead", "failing", "late", "soon"}, 0},
		{1000, []string{"dead", "failing", "late", "soon"}, 0},
	} {
		q := map[string]any{}
		if c.limit != nil {
			q["limit"] = c.limit
		}
		s := e.scrapeAt("metrics/accounts", q)
		got := s.accountSeries()
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range got {
				if !yield(n) {
					return
				}
			}
		})
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(names, want) {
			t.Errorf("limit=%v: series for %v, want %v", c.limit, names, want)
		}
		if got["dead"] != statusNeedsReauth {
			t.Errorf("limit=%v: dead's status %q", c.limit, got["dead"])
		}
		if v := s.value(t, "vault_instagram_account_series_omitted"); v != c.omitted {
			t.Errorf("limit=%v: omitted = %v, want %v", c.limit, v, c.omitted)
		}
		if v, ok := s.lookup("vault_instagram_account_token_expiry_timestamp_seconds", "account", "dead"); ok != slices.Contains(c.want, "dead") || (ok && v != unixSeconds(now.Add(55*24*time.Hour))) {
			t.Errorf("limit=%v: dead's expiry series %v %v", c.limit, v, ok)
		}
		// Nothing but these accounts' series: no aggregate, no secret.
		if _, ok := s.families["vault_instagram_accounts"]; ok {
			t.Errorf("limit=%v: metrics/accounts repeats the aggregates", c.limit)
		}
	}
	for _, bad := range []any{0, -1, 1001, "many"} {
		resp, err := e.do(logical.ReadOperation, "metrics/accounts", map[string]any{"limit": bad})
		e.mustFail(resp, err, "limit")
	}
	// format=json answers the same series as Vault data.
	resp := e.mustOK(e.do(logical.ReadOperation, "metrics/accounts", map[string]any{"format": "json", "limit": 1}))
	fams, _ := resp.Data["families"].(map[string]any)
	status, _ := fams["vault_instagram_account_status"].(map[string]any)
	samples, _ := status["samples"].([]map[string]any)
	if len(samples) != 1 || samples[0]["labels"].(map[string]string)["account"] != "dead" {
		t.Fatalf("format=json: %v", fams)
	}
}

// TestAccountMetricsNeverCarryASecret: the per-account series of real
// accounts (registered, refreshed, revoked) carry no token, code or
// secret.
func TestAccountMetricsNeverCarryASecret(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.registerLongLived("gone", "gone_user", e.clock.Now())
	e.clock.Advance(25 * time.Hour)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(4, 30))
	_, _ = e.write("accounts/shop/refresh", nil)
	e.meta.Revoke(e.account("gone").AccessToken)
	_, _ = e.write("accounts/gone/refresh", nil)
	e.rememberTokens("shop")
	e.rememberTokens("gone")
	s := e.scrapeAt("metrics/accounts", nil)
	if got := s.accountSeries(); got["gone"] != statusNeedsReauth || got["shop"] == "" {
		t.Fatalf("series %v", got)
	}
	for _, secret := range append([]string{testAppSecret}, e.secrets...) {
		if secret != "" && strings.Contains(s.body, secret) {
			t.Error("a secret in the per-account output")
		}
	}
}

// allocatedBy is the fewest bytes one of three runs of f allocated.
func allocatedBy(f func()) uint64 {
	least := uint64(1 << 63)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestAccountMetricsCostThePageNotTheAccounts: a scrape of metrics/accounts
// (the whole request, text format) allocates about as much at 100,000
// accounts as at 1,000: O(page), not O(accounts) (accounts=true allocated
// about 300 MB at 100,000). It reads no account from storage either
// (TestMetricsScrapeReadsNoAccount).
func TestAccountMetricsCostThePageNotTheAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-account schedule")
	}
	scrapeOnce := func(be *backend, s logical.Storage) func() {
		return func() {
			req := &logical.Request{Operation: logical.ReadOperation, Path: "metrics/accounts", Storage: s, Data: map[string]any{"limit": 100}}
			resp, err := be.HandleRequest(context.Background(), req)
			if err != nil || resp.IsError() {
				t.Fatal(err, resp)
			}
		}
	}
	small, smallStorage := scrapeBackend(t, 1_000)
	large, largeStorage := scrapeBackend(t, 100_000)
	atSmall := allocatedBy(scrapeOnce(small, smallStorage))
	atLarge := allocatedBy(scrapeOnce(large, largeStorage))
	t.Logf("a scrape of 100 accounts allocates %d B among 1,000 accounts, %d B among 100,000", atSmall, atLarge)
	if atLarge > 4<<20 || atLarge > 2*atSmall+(256<<10) {
		t.Fatalf("a scrape of 100 accounts allocates %d B among 100,000 accounts against %d B among 1,000: it grows with the accounts", atLarge, atSmall)
	}
}

// TestConcurrentAccountMetricsScrapesComputeOnce: scrapes of
// metrics/accounts that arrive while one is being computed wait for it and
// share its answer: N concurrent scrapes compute the series once.
func TestConcurrentAccountMetricsScrapesComputeOnce(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	const n = 8
	var computed atomic.Int32
	gate, joined := make(chan struct{}), make(chan struct{}, n)
	e.b.metrics.onCompute = func() {
		computed.Add(1)
		<-gate
	}
	e.b.metrics.onJoin = func() { joined <- struct{}{} }

	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := &logical.Request{Operation: logical.ReadOperation, Path: "metrics/accounts", Storage: e.storage}
			resp, err := e.b.HandleRequest(context.Background(), req)
			if err != nil || resp.IsError() {
				t.Error(err, resp)
				return
			}
			bodies[i] = string(resp.Data[logical.HTTPRawBody].([]byte))
		})
	}
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	for i := range n {
		select {
		case <-joined: // this scrape is waiting on the computation
		case <-time.After(10 * time.Second): // a guard against a hang, not a wait
			close(gate)
			wg.Wait()
			t.Fatalf("only %d of %d concurrent scrapes joined a computation; %d computations started", i, n, computed.Load())
		}
	}
	close(gate)
	wg.Wait()
	if got := computed.Load(); got != 1 {
		t.Fatalf("%d concurrent scrapes computed the series %d times, want once", n, got)
	}
	for i, b := range bodies {
		if !strings.Contains(b, `vault_instagram_account_status{account="shop",status="valid"} 1`) {
			t.Fatalf("scrape %d answered %q", i, b)
		}
	}

	// Once it is done, the next scrape computes afresh.
	e.b.metrics.onJoin = nil
	e.scrapeAt("metrics/accounts", nil)
	if got := computed.Load(); got != 2 {
		t.Fatalf("a later scrape computed %d times in all, want 2", got)
	}
	if st := httpStatus(e.do(logical.ReadOperation, "metrics/accounts", map[string]any{"limit": 5000})); st != http.StatusBadRequest {
		t.Fatalf("limit=5000: %d", st)
	}
}
