package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestProxyFlowVerdictIsTheMedianOfPerRoundRatios: the proxy meets "adds
// at most one token read" when the median of its per-round p50 ratios to
// the read-then-call is at most 1; one slow round does not decide it, and
// a row says which rounds it came from.
func TestProxyFlowVerdictIsTheMedianOfPerRoundRatios(t *testing.T) {
	r := newReport(options{conns: []int{1}}, builds{})
	round := func(key string, p50 time.Duration) {
		lat := []time.Duration{p50 - time.Microsecond, p50, p50 + time.Microsecond}
		r.add(target{key: key}, 1, sample{lat: lat, window: time.Second})
	}
	// Three rounds: the proxy at 0.9, 1.5 and 0.95 of the read-then-call.
	for _, pr := range [][2]time.Duration{{1000, 900}, {1000, 1500}, {1000, 950}} {
		round("read-direct", pr[0]*time.Microsecond)
		round("proxy", pr[1]*time.Microsecond)
	}
	var out strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&out, f, a...) }
	r.proxyFlowRows(p, "read-direct", "proxy")
	if row := out.String(); !strings.Contains(row, "| 0.90, 1.50, 0.95 | 0.95 | met |") || !strings.Contains(row, "fake answering at once") {
		t.Fatalf("row = %q", row)
	}

	// A fourth and fifth slow round move the median past 1.
	for range 2 {
		round("read-direct", 1000*time.Microsecond)
		round("proxy", 1100*time.Microsecond)
	}
	out.Reset()
	r.proxyFlowRows(p, "read-direct", "proxy")
	if row := out.String(); !strings.Contains(row, "| 1.10 | missed |") {
		t.Fatalf("row = %q", row)
	}
}

// proxyMarkdownWith is the issue 24 part of the report of a run whose cells
// at 1 connection each measured one call of the given latency.
func proxyMarkdownWith(cells map[string]time.Duration) string {
	r := newReport(options{conns: []int{1}}, builds{})
	for key, lat := range cells {
		r.add(target{key: key}, 1, sample{lat: []time.Duration{lat}, window: time.Second})
	}
	var out strings.Builder
	r.proxyMarkdown(func(f string, a ...any) { fmt.Fprintf(&out, f, a...) })
	return out.String()
}

// TestProxyMarkdownGivesTheSideBySideTableAlone: a run of only the
// side-by-side targets reports their verdict table, at once and at Graph's
// latency, and the tables it has no cells for are left out.
func TestProxyMarkdownGivesTheSideBySideTableAlone(t *testing.T) {
	md := proxyMarkdownWith(map[string]time.Duration{
		"paired-read-direct":      1000 * time.Microsecond,
		"paired-proxy":            1040 * time.Microsecond,
		"paired-read-direct-meta": 101 * time.Millisecond,
		"paired-proxy-meta":       100 * time.Millisecond,
	})
	for _, want := range []string{
		"side by side",
		"| fake answering at once | 1 |",
		"| 1.04 | 1.04 | missed |",
		"| fake answering in 100ms | 1 |",
		"| 0.99 | 0.99 | met |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	if strings.Contains(md, "measured apart") || strings.Count(md, "| conns |") != 1 {
		t.Errorf("tables without cells reported:\n%s", md)
	}
}

// TestProxyMarkdownGivesTheSideBySideTableAtGraphLatencyAlone: a run of
// only paired-meta still reports its table.
func TestProxyMarkdownGivesTheSideBySideTableAtGraphLatencyAlone(t *testing.T) {
	md := proxyMarkdownWith(map[string]time.Duration{
		"paired-read-direct-meta": 100 * time.Millisecond,
		"paired-proxy-meta":       101 * time.Millisecond,
	})
	if !strings.Contains(md, "| fake answering in 100ms | 1 |") || !strings.Contains(md, "| 1.01 | 1.01 | missed |") {
		t.Fatalf("no side-by-side row in\n%s", md)
	}
}

// TestProxyMarkdownGivesTheNullRelayTable: the null plugin's relay, the
// least a proxy can add, has a table of its own, named for what it is.
func TestProxyMarkdownGivesTheNullRelayTable(t *testing.T) {
	md := proxyMarkdownWith(map[string]time.Duration{
		"paired-null-read-direct": 1000 * time.Microsecond,
		"paired-null-relay":       1020 * time.Microsecond,
	})
	for _, want := range []string{"the least a proxy can add", "null plugin `relay/shop`", "relay ÷ read-then-call", "| fake answering at once | 1 |", "| 1.02 | 1.02 | missed |"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	if strings.Contains(md, "through `proxy/shop/me`") {
		t.Errorf("the instagram proxy's table without its cells:\n%s", md)
	}
}
