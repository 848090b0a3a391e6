package instagram

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sync/singleflight"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// engineMetrics are the mount's Prometheus metrics, served on the metrics
// path. Each mount has its own registries (never the process-wide default
// one): a multiplexed plugin process serves several mounts, and each must
// report only its own accounts.
//
// Figures that describe state (accounts by status, the soonest expiry, the
// last periodic run, the app's health) are read when scraped from what the
// backend keeps in memory anyway: the schedule's figures (kept up to date
// as accounts change, internal/schedule/figures.go), the engine's counters and the
// app's health. A scrape never reads accounts from storage, so it costs the
// same at 100,000 accounts as at one (BenchmarkMetricsScrape). What the
// graph client observes (call durations, usage headers) is recorded as it
// happens.
//
// Nothing on the metrics path names an account: the per-account series are
// on metrics/accounts, which a policy must grant on purpose
// (metrics_accounts.go).
type engineMetrics struct {
	b        *backend
	registry *prometheus.Registry // the metrics path's output

	metaDuration  *prometheus.HistogramVec
	metaResponses *prometheus.CounterVec
	appUsage      *prometheus.GaugeVec
	proxy         *proxyMetrics // calls through proxy/ (metrics_proxy.go)

	accountDescs accountDescs // metrics/accounts' series

	// flight coalesces concurrent scrapes (coalesced): the ones that come
	// while an answer is being computed wait for it and share it.
	flight singleflight.Group
	// onCompute and onJoin are tests' hooks: called as an answer starts
	// being computed, and as a scrape has joined a computation.
	onCompute, onJoin func()
}

// metaDurationBuckets span Meta's usual answer (~100 ms) to request_timeout's
// default (10 s) and beyond.
var metaDurationBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func newEngineMetrics(b *backend) *engineMetrics {
	m := &engineMetrics{
		b:            b,
		registry:     prometheus.NewRegistry(),
		accountDescs: newAccountDescs(),
		metaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vault_instagram_meta_request_duration_seconds",
			Help:    "How long calls to Meta took, by endpoint (a call that got no answer counts until it failed).",
			Buckets: metaDurationBuckets,
		}, []string{"endpoint"}),
		metaResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vault_instagram_meta_responses_total",
			Help: "Calls to Meta by endpoint and outcome: 2xx, 4xx, 5xx, or error (no answer: network failure, timeout, oversize body).",
		}, []string{"endpoint", "outcome"}),
		appUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vault_instagram_app_usage_ratio",
			Help: "The app's use of its Meta rate limit as last reported by Meta's usage headers (1 = throttled): header x-app-usage or x-business-use-case-usage (the highest across business use cases), kind call_count, total_time or total_cputime.",
		}, []string{"header", "kind"}),
		proxy: newProxyMetrics(),
	}
	// Known label values start at 0, so that rate() and alerts see a
	// series from the first scrape rather than from the first event.
	for _, ep := range graph.AllEndpoints() {
		m.metaDuration.WithLabelValues(string(ep))
		for _, o := range []string{"2xx", "4xx", "5xx", "error"} {
			m.metaResponses.WithLabelValues(string(ep), o)
		}
	}
	m.registry.MustRegister(m.metaDuration, m.metaResponses, m.appUsage, newStateCollector(b))
	m.registry.MustRegister(m.proxy.collectors()...)
	m.registry.MustRegister(newNotifyCollector(b)) // metrics_notify.go
	return m
}

// exposition renders the metrics path's figures in Prometheus' text format
// 0.0.4.
func (m *engineMetrics) exposition() ([]byte, string, error) {
	families, err := m.gather()
	if err != nil {
		return nil, "", err
	}
	return encodeText(families)
}

// encodeText renders families in Prometheus' text format 0.0.4.
func encodeText(families []*dto.MetricFamily) ([]byte, string, error) {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, "", err
		}
	}
	return buf.Bytes(), string(format), nil
}

func (m *engineMetrics) gather() ([]*dto.MetricFamily, error) {
	return m.registry.Gather()
}

// coalesced is compute's answer for key, computed once for all the scrapes
// that ask for key while it runs: a burst of scrapes (several Prometheus
// servers, a retry storm, someone with curl in a loop) costs one
// computation, not one each. A scrape whose client goes away stops
// waiting; the computation finishes for the others. A panic in compute is
// an error for the scrapes that waited, not a crash of the plugin
// (singleflight would re-panic it on a goroutine of its own).
func (m *engineMetrics) coalesced(ctx context.Context, key string, compute func() (any, error)) (any, error) {
	ch := m.flight.DoChan(key, func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("computing the metrics: %v", r)
			}
		}()
		if m.onCompute != nil {
			m.onCompute()
		}
		return compute()
	})
	if m.onJoin != nil {
		m.onJoin()
	}
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// metaObserver is how the graph client reports to the metrics and the app's
// health (graph.Observer).
type metaObserver struct{ b *backend }

func (o metaObserver) Request(ep graph.Endpoint, took time.Duration, status int) {
	m := o.b.metrics
	m.metaDuration.WithLabelValues(string(ep)).Observe(took.Seconds())
	outcome := "error"
	switch {
	case status >= 200 && status <= 299:
		outcome = "2xx"
		// Meta answered a call normally: an app-level problem recorded
		// before this call was sent is over.
		if p := o.b.appHealth.clearProblem(o.b.clock.Now().Add(-took)); p != nil {
			o.b.Logger().Info("Meta answers normally again: the app-level problem is over", "kind", p.Kind, "since", formatTime(p.since))
		}
	case status >= 400 && status <= 499:
		outcome = "4xx"
	case status >= 500:
		outcome = "5xx"
	}
	m.metaResponses.WithLabelValues(string(ep), outcome).Inc()
}

func (o metaObserver) Usage(header, kind string, percent float64) {
	o.b.metrics.appUsage.WithLabelValues(header, kind).Set(percent / 100)
}

// AppProblem records an answer about the whole app once, and pauses every
// call to Meta: the next call for any account would meet it too.
func (o metaObserver) AppProblem(p graph.AppProblem) {
	now := o.b.clock.Now()
	until := now.Add(o.b.pauseFor(p))
	o.b.pauseApp(until, fmt.Sprintf("Meta reports a problem with the app itself (%s, code %d) on a %s call: %s", p.Kind, p.Code, p.Endpoint, p.Message))
	if o.b.appHealth.recordProblem(p, now) {
		o.b.Logger().Warn("Meta reports a problem with the app itself, not with one account: calls to Meta are paused",
			"kind", p.Kind, "code", p.Code, "message", p.Message, "paused_until", formatTime(until))
	}
}

// unixSeconds is t as a Prometheus timestamp gauge: 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
