package instagram

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// scrape is one answer of the metrics path in Prometheus' text format.
type scrape struct {
	contentType string
	status      int
	body        string
	families    map[string]*dto.MetricFamily
}

// scrapeMetrics reads the metrics path as Prometheus would and parses the
// answer with Prometheus' own parser, which fails on anything malformed.
func (e *testEnv) scrapeMetrics(query map[string]any) scrape {
	e.t.Helper()
	return e.scrapeAt("metrics", query)
}

// scrapeAt is scrapeMetrics for path (metrics or metrics/accounts).
func (e *testEnv) scrapeAt(path string, query map[string]any) scrape {
	e.t.Helper()
	resp := e.mustOK(e.do(logical.ReadOperation, path, query))
	var s scrape
	s.contentType, _ = resp.Data[logical.HTTPContentType].(string)
	s.status, _ = resp.Data[logical.HTTPStatusCode].(int)
	body, _ := resp.Data[logical.HTTPRawBody].([]byte)
	s.body = string(body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("the metrics answer does not parse as the text format: %v\n%s", err, body)
	}
	s.families = fams
	return s
}

// value is the sample of family whose labels include want; it fails when
// there is none.
func (s scrape) value(t *testing.T, family string, want ...string) float64 {
	t.Helper()
	v, ok := s.lookup(family, want...)
	if !ok {
		t.Fatalf("no %s%v in the scrape", family, want)
	}
	return v
}

func (s scrape) lookup(family string, want ...string) (float64, bool) {
	f, ok := s.families[family]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// issueMetrics are the names issue 14 asks for, exactly.
var issueMetrics = []string{
	"vault_instagram_accounts",
	"vault_instagram_token_expiry_seconds_min",
	"vault_instagram_refreshes_total",
	"vault_instagram_refresh_failures_total",
	"vault_instagram_health_checks_total",
	"vault_instagram_periodic_last_run_timestamp_seconds",
	"vault_instagram_meta_request_duration_seconds",
	"vault_instagram_app_usage_ratio",
	"vault_instagram_app_paused_until_timestamp_seconds",
	"vault_instagram_graph_api_version_expiry_timestamp_seconds",
	"vault_instagram_schedule_ready",
}

// TestMetricsAnswersPrometheusTextFormat: the path answers a raw
// text/plain; version=0.0.4 body that Prometheus' parser reads, with every
// metric the issue names, the accounts by every status (0 included), and no
// account name, token, code or secret: per-account series are on
// metrics/accounts only.
func TestMetricsAnswersPrometheusTextFormat(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.registerLongLived("gone", "gone_user", e.clock.Now())
	// A manual refresh meets an app-wide throttle (with Meta's usage
	// headers at 100%), another a revoked token.
	e.clock.Advance(25 * time.Hour)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(4, 30))
	_, _ = e.write("accounts/shop/refresh", nil)
	e.meta.Revoke(e.account("gone").AccessToken)
	_, _ = e.write("accounts/gone/refresh", nil)

	s := e.scrapeMetrics(nil)
	if s.status != http.StatusOK {
		t.Fatalf("status %d", s.status)
	}
	if !strings.HasPrefix(s.contentType, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q, want text/plain; version=0.0.4", s.contentType)
	}
	for _, name := range issueMetrics {
		if _, ok := s.families[name]; !ok {
			t.Errorf("%s is missing from the scrape", name)
		}
	}
	for status, want := range map[string]float64{
		statusValid: 1, statusNeedsReauth: 1, statusRefreshFailing: 0, statusExpiring: 0,
	} {
		if got := s.value(t, "vault_instagram_accounts", "status", status); got != want {
			t.Errorf("vault_instagram_accounts{status=%q} = %v, want %v", status, got, want)
		}
	}
	if got := s.value(t, "vault_instagram_app_usage_ratio", "header", "x-app-usage", "kind", "call_count"); got != 1 {
		t.Errorf("app usage call_count ratio = %v, want 1 (Meta said 100%%)", got)
	}
	if got := s.value(t, "vault_instagram_meta_request_duration_seconds", "endpoint", "refresh"); got != 2 {
		t.Errorf("%v refresh calls observed, want 2", got)
	}
	if got := s.value(t, "vault_instagram_schedule_ready"); got != 1 {
		t.Errorf("schedule_ready = %v", got)
	}

	// Nothing that names or opens an account in the default output.
	for _, leak := range append([]string{"shop", "gone", "shop_user", "gone_user", testAppSecret}, e.secrets...) {
		if leak != "" && strings.Contains(s.body, leak) {
			t.Errorf("the default scrape contains %q", leak)
		}
	}

	// Per-account series only on their own path (issue 22: no longer
	// accounts=true on this one).
	all := e.scrapeAt("metrics/accounts", nil)
	if got := all.value(t, "vault_instagram_account_status", "account", "gone", "status", statusNeedsReauth); got != 1 {
		t.Errorf("account_status{gone,needs_reauth} = %v", got)
	}
	if _, ok := s.families["vault_instagram_account_status"]; ok {
		t.Error("per-account series in the default output")
	}
	for _, secret := range append([]string{testAppSecret}, e.secrets...) {
		if secret != "" && strings.Contains(all.body, secret) {
			t.Error("a secret in the per-account output")
		}
	}
}

// TestMetricsCountRefreshesChecksAndExpiry: the counters follow refreshes
// (by result and failure class) and health checks; the soonest expiry and
// the last periodic run are right at once.
func TestMetricsCountRefreshesChecksAndExpiry(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	issued := e.clock.Now().Add(-40 * 24 * time.Hour)
	e.registerLongLived("a", "a_user", issued)
	bUser := e.registerLongLived("b", "b_user", issued.Add(time.Hour))

	before := e.scrapeMetrics(nil)
	if got, want := before.value(t, "vault_instagram_token_expiry_seconds_min"), e.soonestExpiry("a", "b"); math.Abs(got-want) > 1 {
		t.Fatalf("token_expiry_seconds_min = %v, want %v", got, want)
	}
	if got := before.value(t, "vault_instagram_periodic_last_run_timestamp_seconds"); got != 0 {
		t.Fatalf("last run %v before any run", got)
	}

	// Both are due: one refresh succeeds, Meta is unavailable for the other.
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.GraphError(2, 0, "OAuthException", "Service temporarily unavailable"))
	e.tick()
	s := e.scrapeMetrics(nil)
	checks := []struct {
		family string
		labels []string
		want   float64
	}{
		{"vault_instagram_refreshes_total", []string{"result", "success"}, 1},
		{"vault_instagram_refreshes_total", []string{"result", "failure"}, 1},
		{"vault_instagram_refresh_failures_total", []string{"class", "transient"}, 1},
		{"vault_instagram_refresh_failures_total", []string{"class", "reauth"}, 0},
		{"vault_instagram_refresh_failures_total", []string{"class", "app"}, 0},
		{"vault_instagram_accounts", []string{"status", statusRefreshFailing}, 1},
		{"vault_instagram_accounts", []string{"status", statusValid}, 1},
		{"vault_instagram_periodic_last_run_timestamp_seconds", nil, float64(e.clock.Now().Unix())},
		{"vault_instagram_periodic_runs_total", nil, 1},
		{"vault_instagram_meta_responses_total", []string{"endpoint", "refresh", "outcome", "5xx"}, 1},
		{"vault_instagram_meta_responses_total", []string{"endpoint", "refresh", "outcome", "2xx"}, 1},
	}
	for _, c := range checks {
		if got := s.value(t, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	// The failing account's token is still served: it counts.
	if got, want := s.value(t, "vault_instagram_token_expiry_seconds_min"), e.soonestExpiry("a", "b"); math.Abs(got-want) > 1 {
		t.Errorf("token_expiry_seconds_min = %v, want %v", got, want)
	}

	// A dead token: needs_reauth, and its expiry no longer counts.
	e.meta.RevokeUser(bUser.UserID)
	e.clock.Advance(25 * time.Hour)
	_, _ = e.write("accounts/b/refresh", nil)
	s = e.scrapeMetrics(nil)
	if got := s.value(t, "vault_instagram_accounts", "status", statusNeedsReauth); got != 1 {
		t.Fatalf("needs_reauth = %v", got)
	}
	if got := s.value(t, "vault_instagram_refresh_failures_total", "class", "reauth"); got != 1 {
		t.Errorf("reauth failures = %v", got)
	}
	if got, want := s.value(t, "vault_instagram_token_expiry_seconds_min"), e.soonestExpiry("a"); math.Abs(got-want) > 1 {
		t.Errorf("token_expiry_seconds_min = %v, want %v (the needs_reauth token no longer counts)", got, want)
	}
}

// soonestExpiry is the soonest stored expiry among the named accounts that
// are not needs_reauth, in seconds from now.
func (e *testEnv) soonestExpiry(names ...string) float64 {
	e.t.Helper()
	soonest := math.Inf(1)
	for _, n := range names {
		if a := e.account(n); a.Status != statusNeedsReauth && !a.ExpiresAt.IsZero() {
			soonest = math.Min(soonest, a.ExpiresAt.Sub(e.clock.Now()).Seconds())
		}
	}
	return soonest
}

// TestMetricsJSONHasTheSameFigures: format=json answers the figures of the
// text format as Vault data.
func TestMetricsJSONHasTheSameFigures(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	text := e.scrapeMetrics(nil)
	resp := e.mustOK(e.do(logical.ReadOperation, "metrics", map[string]any{"format": "json"}))
	fams, _ := resp.Data["families"].(map[string]any)
	if len(fams) != len(text.families) {
		t.Fatalf("json has %d families, text %d", len(fams), len(text.families))
	}
	accounts := fams["vault_instagram_accounts"].(map[string]any)
	if accounts["type"] != "gauge" {
		t.Fatalf("type %v", accounts["type"])
	}
	for _, sample := range accounts["samples"].([]map[string]any) {
		status := sample["labels"].(map[string]string)["status"]
		if want := text.value(t, "vault_instagram_accounts", "status", status); sample["value"] != want {
			t.Errorf("json accounts{%s} = %v, text %v", status, sample["value"], want)
		}
	}
	hist := fams["vault_instagram_meta_request_duration_seconds"].(map[string]any)
	for _, sample := range hist["samples"].([]map[string]any) {
		ep := sample["labels"].(map[string]string)["endpoint"]
		if want := text.value(t, "vault_instagram_meta_request_duration_seconds", "endpoint", ep); float64(sample["count"].(uint64)) != want {
			t.Errorf("json histogram %s count %v, text %v", ep, sample["count"], want)
		}
	}
	resp, err := e.do(logical.ReadOperation, "metrics", map[string]any{"format": "xml"})
	e.mustFail(resp, err, "format")
}

// accountAccessCounter counts reads of accounts, to prove a scrape makes none.
type accountAccessCounter struct {
	logical.Storage
	accountReads atomic.Int64
}

func (c *accountAccessCounter) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if strings.HasPrefix(key, accountStoragePrefix) {
		c.accountReads.Add(1)
	}
	return c.Storage.Get(ctx, key)
}

func (c *accountAccessCounter) List(ctx context.Context, prefix string) ([]string, error) {
	if strings.HasPrefix(prefix, accountStoragePrefix) {
		c.accountReads.Add(1)
	}
	return c.Storage.List(ctx, prefix)
}

// TestMetricsScrapeReadsNoAccount: a scrape (even of the per-account
// series, metrics/accounts) reads no account from storage: the figures
// come from the schedule.
func TestMetricsScrapeReadsNoAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerDue("n", 3)
	counting := &accountAccessCounter{Storage: e.storage}
	e.storage = counting
	for _, path := range []string{"metrics", "metrics/accounts"} {
		e.scrapeAt(path, nil)
	}
	if n := counting.accountReads.Load(); n != 0 {
		t.Fatalf("a scrape read accounts from storage %d times", n)
	}
}

// TestScheduleReadyIsZeroUntilTheRebuild: after a restart, the gauge says
// the account figures are not complete until the schedule has been built.
func TestScheduleReadyIsZeroUntilTheRebuild(t *testing.T) {
	b := newBackend(backendOptions{clock: newFakeClock()})
	conf := logical.TestBackendConfig()
	conf.StorageView = &logical.InmemStorage{}
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	body, _, err := b.metrics.exposition()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "vault_instagram_schedule_ready 0") {
		t.Fatalf("schedule_ready before the build:\n%s", body)
	}
	if err := b.rebuildSchedule(context.Background(), conf.StorageView); err != nil {
		t.Fatal(err)
	}
	body, _, _ = b.metrics.exposition()
	if !strings.Contains(string(body), "vault_instagram_schedule_ready 1") {
		t.Fatalf("schedule_ready after the build:\n%s", body)
	}
}
