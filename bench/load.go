package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// target is one read the benchmark drives.
type target struct {
	key  string // short name in the table
	desc string // what it is
	path string // URL path and query, from /v1/
	// url, when set, is the whole URL of a target outside Vault (a direct
	// Graph call on the fake Meta), path then only names it.
	url string
	// metaLatency, when set, is how long the fake Meta takes to answer
	// while the target is measured: Graph's own latency, for the calls
	// that reach it.
	metaLatency time.Duration
	// appFlow, when set, makes each iteration what an application that
	// does not use the proxy does for one Graph call: read path (a
	// token/shop), then call Graph with the token it got (proxy.go).
	appFlow bool
	// sideBySide, when set, makes the target these targets measured side
	// by side, call for call (loadRunSeq), each reported under its own
	// key; the target itself then only names the pair.
	sideBySide []target
}

// measured is what measuring t measures: the targets it sets side by
// side, or t alone.
func (t target) measured() []target {
	if len(t.sideBySide) > 0 {
		return t.sideBySide
	}
	return []target{t}
}

// newHTTPClient is the one client every measurement shares: keep-alive,
// enough idle connections per host for the highest concurrency, no
// compression (Vault does not compress, and gzip would only add client
// CPU). Vault is plain http, HTTP/1.1, a connection per worker; the fake
// Meta is https (metaRoots, its certificate; nil when it runs on plain
// http) and HTTP/2, the workers' calls multiplexed on one connection, as
// an application's Go client does with Meta (metaTransport).
func newHTTPClient(maxConns int, metaRoots *x509.CertPool) *http.Client {
	t := metaTransport(metaRoots)
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConns = maxConns * 2
	t.MaxIdleConnsPerHost = maxConns * 2
	t.IdleConnTimeout = 5 * time.Minute
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// sample is what one load run measured.
type sample struct {
	lat      []time.Duration // latencies of the requests that succeeded in the window
	errors   int
	firstErr error
	window   time.Duration
}

// loadRun drives GETs of url from conns goroutines, each with its own
// keep-alive connection taken from client, for warmup and then measure. Only
// requests that both start and complete inside the measured window count; a
// request in flight when the window ends is waited for and discarded.
func loadRun(ctx context.Context, client *http.Client, url, token string, conns int, warmup, measure time.Duration) sample {
	return loadRunOps(ctx, conns, warmup, measure, getOp(ctx, client, url, token))
}

// getOp gives each worker a GET of url with its own request.
func getOp(ctx context.Context, client *http.Client, url, token string) func() (func() error, error) {
	return func() (func() error, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Vault-Token", token)
		return func() error { return doOne(client, req) }, nil
	}
}

// loadRunOps is loadRun for any operation: newOp gives each of the conns
// workers its own, and one call of it is one measured iteration (a GET, or
// an application's read-then-call).
func loadRunOps(ctx context.Context, conns int, warmup, measure time.Duration, newOp func() (func() error, error)) sample {
	return loadRunSeq(ctx, conns, warmup, measure, func() ([]func() error, error) {
		op, err := newOp()
		return []func() error{op}, err
	})[0]
}

// loadRunSeq is loadRunOps for operations measured side by side: each
// worker runs every operation newOps gives it once an iteration, in an
// order turned by one each iteration (A B, then B A), and sample i holds
// the latencies of operation i. Two ways of doing the same thing measured
// this way meet the machine in the same state, call for call, which two
// cells measured one after the other on a shared machine do not.
func loadRunSeq(ctx context.Context, conns int, warmup, measure time.Duration, newOps func() ([]func() error, error)) []sample {
	start := time.Now()
	winStart := start.Add(warmup)
	winEnd := winStart.Add(measure)

	results := make([][]sample, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops, err := newOps()
			if err != nil {
				results[w] = []sample{{errors: 1, firstErr: err}}
				return
			}
			rs := make([]sample, len(ops))
			results[w] = rs
			for i := range rs {
				// Preallocate for a generous rate so appends stay out of
				// the measured path.
				rs[i].lat = make([]time.Duration, 0, 1<<15/len(ops))
			}
			for iter := 0; ; iter++ {
				if !time.Now().Before(winEnd) || ctx.Err() != nil {
					return
				}
				for k := range ops {
					i := (k + iter) % len(ops)
					r := &rs[i]
					t0 := time.Now()
					err := ops[i]()
					t1 := time.Now()
					if t0.Before(winStart) || t1.After(winEnd) {
						continue // warm-up, or ran past the window
					}
					if err != nil {
						r.errors++
						if r.firstErr == nil {
							r.firstErr = err
						}
						continue
					}
					r.lat = append(r.lat, t1.Sub(t0))
				}
			}
		}()
	}
	wg.Wait()

	n := 1
	for _, rs := range results {
		n = max(n, len(rs))
	}
	out := make([]sample, n)
	for i := range out {
		out[i].window = measure
	}
	for _, rs := range results {
		for i, r := range rs {
			out[i].lat = append(out[i].lat, r.lat...)
			out[i].errors += r.errors
			if out[i].firstErr == nil {
				out[i].firstErr = r.firstErr
			}
		}
	}
	return out
}

// doOne sends one request and reads the whole body, so the connection goes
// back to the pool; anything but a 200 is an error.
func doOne(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", req.URL.Path, resp.StatusCode)
	}
	return nil
}
