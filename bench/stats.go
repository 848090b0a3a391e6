package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of the
// samples are less than or equal to it. sorted must be in ascending order;
// an empty slice gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// Nearest rank: ceil(p/100 * n), 1-based. The small epsilon keeps
	// p=99, n=100 at rank 99 despite floating-point noise.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(rank, 1)
	return sorted[rank-1]
}

// summary is one measured cell of the table.
type summary struct {
	Requests int           // successful requests in the measured window
	Errors   int           // failed requests (transport errors or non-2xx)
	Elapsed  time.Duration // the measured window
	P50, P99 time.Duration
	Max      time.Duration
	FirstErr error // the first failure, to say why Errors > 0
}

// rate is successful requests per second.
func (s summary) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// summarize sorts latencies in place and reduces them to a summary.
func summarize(latencies []time.Duration, errors int, elapsed time.Duration) summary {
	slices.Sort(latencies)
	s := summary{Requests: len(latencies), Errors: errors, Elapsed: elapsed}
	if len(latencies) > 0 {
		s.P50 = percentile(latencies, 50)
		s.P99 = percentile(latencies, 99)
		s.Max = latencies[len(latencies)-1]
	}
	return s
}

// median of a non-empty slice of floats (the mean of the middle two for an
// even count); 0 for an empty one. It does not modify xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// ratio is a/b, or NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// fmtDur prints a latency in microseconds or milliseconds, compactly.
func fmtDur(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// fmtRatio prints a ratio with two decimals, "—" when undefined.
func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	out := fmt.Sprintf("%.2f", r)
	if out == "1.00" && r != 1 {
		// A ratio that rounds to 1.00 is where a target of "at most 1"
		// is decided: one more digit shows which side of 1 it is on.
		out = fmt.Sprintf("%.3f", r)
	}
	return out
}
