package main

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/bench/nullbackend"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample p50", ms(7), 50, 7 * time.Millisecond},
		{"one sample p99", ms(7), 99, 7 * time.Millisecond},
		{"two samples p50 is the lower", ms(1, 2), 50, 1 * time.Millisecond},
		{"two samples p51 is the upper", ms(1, 2), 51, 2 * time.Millisecond},
		{"odd count median", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p0 is the minimum", ms(1, 2, 3), 0, 1 * time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p99.5", hundred, 99.5, 100 * time.Millisecond},
		{"1..100 p1", hundred, 1, 1 * time.Millisecond},
		{"ten samples p99 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"ten samples p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	lat := []time.Duration{5, 3, 1, 4, 2} // unsorted on purpose
	s := summarize(lat, 2, time.Second)
	if s.Requests != 5 || s.Errors != 2 {
		t.Fatalf("counts = %d/%d, want 5/2", s.Requests, s.Errors)
	}
	if s.P50 != 3 || s.P99 != 5 || s.Max != 5 {
		t.Errorf("p50/p99/max = %v/%v/%v, want 3/5/5", s.P50, s.P99, s.Max)
	}
	if r := s.rate(); r != 5 {
		t.Errorf("rate = %v, want 5", r)
	}
	if r := (summary{}).rate(); r != 0 {
		t.Errorf("rate of an empty window = %v, want 0", r)
	}
}

func TestMedianAndRatio(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	in := []float64{4, 1, 3, 2}
	if got := median(in); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if in[0] != 4 {
		t.Error("median modified its input")
	}
	if got := median(nil); got != 0 {
		t.Errorf("median empty = %v", got)
	}
	if !math.IsNaN(ratio(1, 0)) || ratio(3, 2) != 1.5 {
		t.Error("ratio")
	}
	for r, want := range map[float64]string{1: "1.00", 1.004: "1.004", 0.997: "0.997", 1.04: "1.04", 0.9951: "0.995"} {
		if got := fmtRatio(r); got != want {
			t.Errorf("fmtRatio(%v) = %q, want %q: a ratio that rounds to 1.00 shows which side of 1 it is on", r, got, want)
		}
	}
	if fmtRatio(math.NaN()) != "—" || fmtRatio(0.899) != "0.90" {
		t.Error("fmtRatio")
	}
}

func TestParseStatPPID(t *testing.T) {
	for _, tt := range []struct {
		stat string
		want int
		ok   bool
	}{
		{"1234 (vault) S 77 1234 1234 0 -1", 77, true},
		{"99 (a (weird) name) R 5 99 99", 5, true},
		{"garbage", 0, false},
		{"1 (x)", 0, false},
	} {
		got, ok := parseStatPPID([]byte(tt.stat))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseStatPPID(%q) = %d, %v; want %d, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseKiB(t *testing.T) {
	if n, err := parseKiB("\t  123456 kB"); err != nil || n != 123456 {
		t.Errorf("parseKiB = %d, %v", n, err)
	}
	if _, err := parseKiB("12 MB"); err == nil {
		t.Error("parseKiB accepted MB")
	}
}

func TestRoundOrder(t *testing.T) {
	keys := func(ts []target) string {
		var s string
		for _, t := range ts {
			s += t.key + " "
		}
		return s
	}
	all := allTargets()
	for round, want := range []string{
		"token null null-cb null-stored kv account list null-list ",
		"null token null-stored kv account list null-list null-cb ",
		"token null kv account list null-list null-cb null-stored ",
	} {
		if got := keys(roundOrder(all, round)); got != want {
			t.Errorf("round %d: %q, want %q", round, got, want)
		}
	}
	// A subset without the pair still measures everything once.
	sub := []target{{key: "kv"}, {key: "list"}}
	if got := keys(roundOrder(sub, 1)); got != "list kv " {
		t.Errorf("subset: %q", got)
	}
}

func TestAccountNamesSorted(t *testing.T) {
	names := nullbackend.AccountNames(12)
	if len(names) != 12 || !slices.IsSorted(names) || names[len(names)-1] != "shop" {
		t.Errorf("AccountNames(12) = %v", names)
	}
	if len(nullbackend.AccountNames(0)) != 0 {
		t.Error("AccountNames(0) not empty")
	}
}
