package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Issue 17's figures at -scale: what an operator of a million accounts
// sees after a reload or failover. The rebuild and the RSS come from
// measureReload; measureScale adds a LIST page, status reads, token reads
// against the null plugin at 16 connections and a periodic run with nothing
// due, and scaleMarkdown says which targets are met.

// scaleTargets are issue 17's targets for a number of accounts (the
// 1,000,000 column above 100,000).
type scaleTargets struct {
	rebuild time.Duration
	rss     int64 // KiB
	list    time.Duration
	ratio   float64
	tick    time.Duration
}

func targetsFor(n int) scaleTargets {
	if n > 100_000 {
		return scaleTargets{rebuild: 20 * time.Second, rss: 600 << 10, list: 20 * time.Millisecond, ratio: 1.0, tick: time.Millisecond}
	}
	return scaleTargets{rebuild: 2 * time.Second, rss: 100 << 10, list: 20 * time.Millisecond, ratio: 1.0, tick: time.Millisecond}
}

// scaleResult is one -scale row.
type scaleResult struct {
	accounts          int
	reload            reload
	listPage          summary
	listKeys          int
	status            summary
	token, null       summary
	tickTook          time.Duration // as status reports it (whole milliseconds)
	tickRefreshed     int64
	tickMeasuredAfter time.Duration // how long after the reload that run came
}

// sequential reads path n times, one at a time, and summarizes the
// latencies; keys is the length of data.keys in the last answer.
func (e *env) sequential(ctx context.Context, path string, n int) (summary, int, error) {
	var lat []time.Duration
	keys, errs := 0, 0
	var first error
	start := time.Now()
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.vault.Addr+"/v1/"+path, nil)
		if err != nil {
			return summary{}, 0, err
		}
		req.Header.Set("X-Vault-Token", rootToken)
		t0 := time.Now()
		resp, err := e.client.Do(req)
		if err != nil {
			errs++
			first = cmpOr(first, err)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil || resp.StatusCode != http.StatusOK {
			errs++
			first = cmpOr(first, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body))
			continue
		}
		lat = append(lat, d)
		var ans struct {
			Data struct {
				Keys []string `json:"keys"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &ans) == nil {
			keys = len(ans.Data.Keys)
		}
	}
	s := summarize(lat, errs, time.Since(start))
	s.FirstErr = first
	return s, keys, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// statusFields reads instagram/status.
func (e *env) statusFields(ctx context.Context) (map[string]any, error) {
	sec, err := e.api.Logical().ReadWithContext(ctx, "instagram/status")
	if err != nil || sec == nil {
		return nil, fmt.Errorf("read status: %v", err)
	}
	return sec.Data, nil
}

func int64Of(v any) int64 {
	if n, ok := v.(json.Number); ok {
		i, _ := n.Int64()
		return i
	}
	return -1
}

// measureScale measures, with n accounts registered and the plugin just
// reloaded (rl), issue 17's other figures.
func (e *env) measureScale(ctx context.Context, n int, rl reload) error {
	r := scaleResult{accounts: n, reload: rl}
	var err error
	// A page from the middle: after the name of account n/2.
	listPath := "instagram/accounts?list=true&limit=1000&after=" + url.QueryEscape(bulkName(n/2))
	if r.listPage, r.listKeys, err = e.sequential(ctx, listPath, 50); err != nil {
		return err
	}
	if r.status, _, err = e.sequential(ctx, "instagram/status", 50); err != nil {
		return err
	}
	logf("%d accounts: LIST page of %d p50 %s p99 %s; status p50 %s p99 %s", n, r.listKeys,
		fmtDur(r.listPage.P50), fmtDur(r.listPage.P99), fmtDur(r.status.P50), fmtDur(r.status.P99))

	// Token reads against the null plugin at 16 connections, back to back.
	var tok, null []time.Duration
	var tokWin, nullWin time.Duration
	tokErr, nullErr := 0, 0
	for round := range 2 {
		for i, path := range []string{"instagram/token/shop", "null/token/shop"} {
			if round == 1 {
				path = []string{"null/token/shop", "instagram/token/shop"}[i]
			}
			s := loadRun(ctx, e.client, e.vault.Addr+"/v1/"+path, rootToken, 16, e.o.warmup, e.o.duration)
			if path == "instagram/token/shop" {
				tok, tokWin, tokErr = append(tok, s.lat...), tokWin+s.window, tokErr+s.errors
			} else {
				null, nullWin, nullErr = append(null, s.lat...), nullWin+s.window, nullErr+s.errors
			}
		}
	}
	r.token, r.null = summarize(tok, tokErr, tokWin), summarize(null, nullErr, nullWin)
	logf("%d accounts: token/shop %.0f/s, null %.0f/s at 16 connections", n, r.token.rate(), r.null.rate())

	// A periodic run with nothing due: the runs after the reload's first
	// (which reads the accounts whose index records were still pending).
	logf("waiting for a periodic run with nothing due (Vault runs it once a minute)")
	st, err := e.statusFields(ctx)
	if err != nil {
		return err
	}
	seen := 0
	last := st["last_run_at"]
	deadline := time.Now().Add(4 * time.Minute)
	for seen < 2 {
		if time.Now().After(deadline) {
			return fmt.Errorf("no two periodic runs within 4 minutes (last_run_at %v)", last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if st, err = e.statusFields(ctx); err != nil {
			return err
		}
		if st["last_run_at"] != last {
			last = st["last_run_at"]
			seen++
		}
	}
	r.tickTook = time.Duration(int64Of(st["last_run_duration_ms"])) * time.Millisecond
	r.tickRefreshed = int64Of(st["last_run_refreshed"])
	r.tickMeasuredAfter = time.Since(rl.at)
	logf("%d accounts: periodic run took %s (status, whole ms), refreshed %d", n, r.tickTook, r.tickRefreshed)
	e.report.scale = append(e.report.scale, r)
	return nil
}

// scaleMarkdown is the -scale table and its verdicts.
func (r *report) scaleMarkdown(p func(string, ...any)) {
	if len(r.scale) == 0 {
		return
	}
	p("| issue 17 figure | accounts | measured | target | |\n|---|---:|---:|---:|---|\n")
	for _, s := range r.scale {
		t := targetsFor(s.accounts)
		n := s.accounts
		ratio := ratio(s.token.rate(), s.null.rate())
		p("| schedule rebuild after a plugin reload (until `status` counts every account) | %d | %s | < %s | %s |\n", n, s.reload.ready.Round(time.Millisecond), t.rebuild, verdict(s.reload.ready < t.rebuild))
		p("| plugin RSS after the reload | %d | %s | < %s | %s |\n", n, fmtMiB(s.reload.rss), fmtMiB(t.rss), verdict(s.reload.rss > 0 && s.reload.rss < t.rss))
		p("| `LIST accounts/` page of %d (after the middle name), 50 one after another; the target on the median | %d | p50 %s, p99 %s | < %s | %s |\n", s.listKeys, n, fmtDur(s.listPage.P50), fmtDur(s.listPage.P99), t.list, verdict(s.listKeys == 1000 && s.listPage.P50 < t.list && s.listPage.Errors == 0))
		p("| `token/shop` reads ÷ the null plugin's at 16 connections (%.0f/s vs %.0f/s, p99 %s vs %s) | %d | %s | ≥ %.1f | %s |\n", s.token.rate(), s.null.rate(), fmtDur(s.token.P99), fmtDur(s.null.P99), n, fmtRatio(ratio), t.ratio, verdict(ratio >= t.ratio && s.token.Errors == 0))
		p("| `status` read, 50 one after another | %d | p50 %s, p99 %s | | |\n", n, fmtDur(s.status.P50), fmtDur(s.status.P99))
		p("| periodic run with nothing due (`status` `last_run_duration_ms`, whole ms; the second run after the reload, %s after it; refreshed %d) | %d | %s | < %s | %s |\n",
			s.tickMeasuredAfter.Round(time.Second), s.tickRefreshed, n, s.tickTook, t.tick, verdict(s.tickTook < t.tick && s.tickRefreshed == 0))
	}
	p("\n")
}
