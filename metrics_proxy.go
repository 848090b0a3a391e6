package instagram

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxProxyFamilies bounds the family label: families are made of known
// Graph words and placeholders (internal/proxy.Family), but a caller could
// still combine them in many ways; past this many, calls count as
// "{overflow}".
const (
	maxProxyFamilies = 200
	maxFamilyDepth   = 3
)

// proxyMetrics count the calls made through proxy/, by Graph path family
// (never a raw id or an account's name) and outcome.
type proxyMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu   sync.Mutex
	seen map[string]bool
	// byAccount is each account's calls, for metrics/accounts (which may
	// name accounts); an entry is a few dozen bytes, at most one an
	// account that ever called.
	byAccount map[string]*proxyAccountFigures
}

// proxyAccountFigures are one account's proxied calls and their time.
type proxyAccountFigures struct {
	calls   uint64
	seconds float64
}

func newProxyMetrics() *proxyMetrics {
	return &proxyMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vault_instagram_proxy_requests_total",
			Help: "Graph calls made through proxy/, by Graph path family (ids replaced by {id}) and outcome: 2xx, 4xx, 5xx, or error (no answer).",
		}, []string{"family", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vault_instagram_proxy_request_duration_seconds",
			Help:    "How long Graph calls through proxy/ took, by Graph path family.",
			Buckets: metaDurationBuckets,
		}, []string{"family"}),
		seen:      map[string]bool{},
		byAccount: map[string]*proxyAccountFigures{},
	}
}

func (m *proxyMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.duration}
}

// observe counts one proxied call of account.
func (m *proxyMetrics) observe(account, family, outcome string, took time.Duration) {
	family = m.bounded(family)
	m.calls.WithLabelValues(family, outcome).Inc()
	m.duration.WithLabelValues(family).Observe(took.Seconds())
	m.mu.Lock()
	f := m.byAccount[account]
	if f == nil {
		f = &proxyAccountFigures{}
		m.byAccount[account] = f
	}
	f.calls++
	f.seconds += took.Seconds()
	m.mu.Unlock()
}

// ofAccount is account's proxied calls so far.
func (m *proxyMetrics) ofAccount(account string) (proxyAccountFigures, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.byAccount[account]
	if !ok {
		return proxyAccountFigures{}, false
	}
	return *f, true
}

// bounded is family cut to maxFamilyDepth segments, or "{overflow}" once
// maxProxyFamilies others have been seen.
func (m *proxyMetrics) bounded(family string) string {
	if segs := strings.SplitN(family, "/", maxFamilyDepth+1); len(segs) > maxFamilyDepth {
		family = strings.Join(segs[:maxFamilyDepth], "/") + "/..."
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.seen[family] {
		if len(m.seen) >= maxProxyFamilies {
			return "{overflow}"
		}
		m.seen[family] = true
	}
	return family
}
