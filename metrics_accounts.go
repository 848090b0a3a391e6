package instagram

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// The per-account series (metrics/accounts). They name accounts, which the
// metrics path must never do: the token Prometheus holds for it is meant
// to learn nothing about any account (issue 22). So they sit on a path of
// their own that a policy grants on purpose, and they are bounded: the
// limit most urgent accounts (schedule.MostUrgent: needs_reauth first,
// then refresh_failing, expiring, valid, the soonest expiry first), never
// every account. A scrape costs one pass over the in-memory schedule and
// memory for the page only, reads nothing from storage, and concurrent
// scrapes share one computation (engineMetrics.coalesced).

const (
	defaultAccountSeriesLimit = 100
	maxAccountSeriesLimit     = 1000
)

type accountDescs struct {
	status, expiry, scopes, omitted *prometheus.Desc
	proxyCalls, proxySeconds        *prometheus.Desc
}

func newAccountDescs() accountDescs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vault_instagram_account_"+name, help, labels, nil)
	}
	return accountDescs{
		status:       d("status", "1 for the account's status; only the most urgent accounts (metrics/accounts limit).", "account", "status"),
		expiry:       d("token_expiry_timestamp_seconds", "Unix time the account's token expires; absent when unknown or never.", "account"),
		scopes:       d("missing_scopes", "1 for an account granted fewer scopes than config's scopes; absent for the others.", "account"),
		omitted:      d("series_omitted", "Accounts left out of this answer by its limit: all less urgent than those in it."),
		proxyCalls:   d("proxy_requests_total", "Graph calls made through proxy/ with the account's token since the plugin started; absent for an account that made none.", "account"),
		proxySeconds: d("proxy_request_seconds_total", "Time those calls took, in seconds.", "account"),
	}
}

// accountFamilies gathers the series of the limit most urgent accounts.
func (m *engineMetrics) accountFamilies(limit int) ([]*dto.MetricFamily, error) {
	figs, total := m.b.sched.MostUrgent(limit)
	reg := prometheus.NewRegistry()
	if err := reg.Register(accountsPage{descs: m.accountDescs, figs: figs, omitted: total - len(figs), proxy: m.proxy}); err != nil {
		return nil, err
	}
	return reg.Gather()
}

// accountsPage is one answer's accounts as a collector.
type accountsPage struct {
	descs   accountDescs
	figs    []schedule.AccountFigure
	omitted int
	proxy   *proxyMetrics
}

func (p accountsPage) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.descs.status
	ch <- p.descs.expiry
	ch <- p.descs.scopes
	ch <- p.descs.omitted
	ch <- p.descs.proxyCalls
	ch <- p.descs.proxySeconds
}

func (p accountsPage) Collect(ch chan<- prometheus.Metric) {
	for _, a := range p.figs {
		ch <- prometheus.MustNewConstMetric(p.descs.status, prometheus.GaugeValue, 1, a.Name, a.Status)
		if !a.ExpiresAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(p.descs.expiry, prometheus.GaugeValue, unixSeconds(a.ExpiresAt), a.Name)
		}
		if a.MissingScopes {
			ch <- prometheus.MustNewConstMetric(p.descs.scopes, prometheus.GaugeValue, 1, a.Name)
		}
		if f, ok := p.proxy.ofAccount(a.Name); ok {
			ch <- prometheus.MustNewConstMetric(p.descs.proxyCalls, prometheus.CounterValue, float64(f.calls), a.Name)
			ch <- prometheus.MustNewConstMetric(p.descs.proxySeconds, prometheus.CounterValue, f.seconds, a.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(p.descs.omitted, prometheus.GaugeValue, float64(max(p.omitted, 0)))
}
