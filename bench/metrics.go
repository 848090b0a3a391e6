package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Issue 14's ceiling for a Prometheus scrape of instagram/metrics.
const (
	metricsTargetLatency = 50 * time.Millisecond
	metricsTargetBytes   = 64 << 10
	metricsScrapes       = 20
)

// metricsScrape is a series of scrapes of instagram/metrics through Vault,
// one at a time as Prometheus scrapes.
type metricsScrape struct {
	accounts, bytes int
	p50, max        time.Duration
}

// measureMetrics scrapes instagram/metrics as Prometheus does (GET with a
// token, the text format) with accounts registered: a few unmeasured
// scrapes, then metricsScrapes measured ones.
func (e *env) measureMetrics(ctx context.Context, accounts int) error {
	logf("scraping instagram/metrics %d times with %d accounts", metricsScrapes, accounts)
	var lat []time.Duration
	size := 0
	for i := range 3 + metricsScrapes {
		start := time.Now()
		n, err := e.scrapeMetrics(ctx)
		took := time.Since(start)
		if err != nil {
			return err
		}
		if i >= 3 {
			lat = append(lat, took)
			size = n
		}
	}
	slices.Sort(lat)
	e.report.metrics = append(e.report.metrics, metricsScrape{accounts: accounts, bytes: size, p50: lat[len(lat)/2], max: lat[len(lat)-1]})
	return nil
}

func (e *env) scrapeMetrics(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.vault.Addr+"/v1/instagram/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+rootToken) // as Prometheus sends it
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		return 0, fmt.Errorf("GET instagram/metrics: HTTP %d, %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return len(body), nil
}

// metricsMarkdown is the scrape table and its verdict.
func (r *report) metricsMarkdown(p func(string, ...any)) {
	if len(r.metrics) == 0 {
		return
	}
	p("| `GET instagram/metrics` (Prometheus scrape, %d in a row) | accounts | body | p50 | slowest | target (< %s, < %d KiB) |\n|---|---:|---:|---:|---:|---|\n",
		metricsScrapes, metricsTargetLatency, metricsTargetBytes>>10)
	for _, m := range r.metrics {
		p("| aggregate series (the default) | %d | %d B | %s | %s | **%s** |\n", m.accounts, m.bytes, fmtDur(m.p50), fmtDur(m.max),
			verdict(m.max < metricsTargetLatency && m.bytes < metricsTargetBytes))
	}
	p("\n")
}
