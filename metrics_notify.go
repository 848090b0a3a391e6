package instagram

import (
	"github.com/prometheus/client_golang/prometheus"
)

// notifyCollector is the notification outbox's figures as metrics, read
// from the outbox at scrape time (it keeps them in memory): app-level, no
// account name. The counters count since the plugin started on this node,
// as the other *_total series do.
type notifyCollector struct {
	b                                        *backend
	pending, delivered, failed, dropped, age *prometheus.Desc
}

func newNotifyCollector(b *backend) *notifyCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vault_instagram_notify_"+name, help, labels, nil)
	}
	return &notifyCollector{
		b:         b,
		pending:   d("pending", "Notification events stored and not yet delivered (the webhook backlog)."),
		delivered: d("delivered_total", "Notification events a receiver accepted (answered 2xx), since the plugin started."),
		failed:    d("failed_attempts_total", "Notification delivery attempts that did not get a 2xx, since the plugin started."),
		dropped:   d("dropped_total", "Notification events dropped undelivered since the plugin started, by reason: expired (kept 24 hours) or backlog (the oldest, past the backlog bound).", "reason"),
		age:       d("oldest_pending_age_seconds", "Age of the oldest undelivered notification event; 0 with none."),
	}
}

func (c *notifyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.delivered, c.failed, c.dropped, c.age} {
		ch <- d
	}
}

func (c *notifyCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.b.outbox.Figures()
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(f.Pending))
	ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(f.Delivered))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(f.FailedAttempts))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(f.DroppedExpired), "expired")
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(f.DroppedBacklog), "backlog")
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, f.OldestPendingAge.Seconds())
}

// notifyStatus is status's notifications block.
func (b *backend) notifyStatus(cfg *config) map[string]any {
	f := b.outbox.Figures()
	return map[string]any{
		"enabled":                    notifyTarget(cfg).Enabled(),
		"pending":                    f.Pending,
		"delivered":                  int64(f.Delivered),
		"failed_attempts":            int64(f.FailedAttempts),
		"dropped_expired":            int64(f.DroppedExpired),
		"dropped_backlog":            int64(f.DroppedBacklog),
		"oldest_pending_age_seconds": int64(f.OldestPendingAge.Seconds()),
		// false until this node's outbox has read what an earlier one
		// left stored (its first periodic run): pending is partial.
		"loaded": f.Loaded,
	}
}
