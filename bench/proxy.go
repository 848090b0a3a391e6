package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// The Graph pass-through measured (issue 24): the same Graph call made
// directly with shop's token, as an application that read token/shop does,
// and through proxy/shop/..., in the same run on the same fake, which runs
// in its own process so that both calls leave their process to reach it,
// and serves https with HTTP/2 as Meta does, so that both reach it over the
// protocol they use with Meta (fakeMeta); and what the plugin holds in
// memory per proxied call in flight.

// Targets: the proxy adds at most one token/shop read to a call, and keeps
// at least 0.8 of the direct calls' throughput at 16 connections.
const (
	targetProxyRateRatio = 0.8
	proxyInFlight        = 200
	proxyHold            = 3 * time.Second
)

type proxyMemory struct {
	inFlight       int
	before, during int64 // plugin RSS, KiB
}

// proxyTargets are the Graph call through the engine and the same call made
// directly, which setupProxy made possible.
func (e *env) proxyTargets() []target {
	ts := []target{
		{key: "proxy", desc: "instagram `proxy/shop/me?fields=id,username` (a Graph call through the engine)", path: proxyMePath},
		{key: "direct", desc: "the same Graph call made directly with shop's token (no Vault; to the fake Meta's own process, as the plugin's call goes)", path: "graph.instagram.com/me", url: e.directURL},
		{key: "read-direct", desc: "an application without the proxy: `token/shop` read, then the same Graph call with the token it answered (no caching)", path: "instagram/token/shop", appFlow: true},
		{key: "read-direct-meta", desc: "the same read-then-call, the fake answering in " + graphLatency.String() + " as Graph does", path: "instagram/token/shop", appFlow: true, metaLatency: graphLatency},
		{key: "proxy-meta", desc: "the proxied call, the fake answering in " + graphLatency.String() + " as Graph does", path: proxyMePath, metaLatency: graphLatency},
		{key: "direct-meta", desc: "the direct call, the fake answering in " + graphLatency.String() + " as Graph does", path: "graph.instagram.com/me", url: e.directURL, metaLatency: graphLatency},
	}
	proxied := target{key: "paired-proxy", desc: "side by side, call for call: the proxied call", path: proxyMePath}
	flow := target{key: "paired-read-direct", desc: "side by side, call for call: the read-then-call", path: "instagram/token/shop", appFlow: true}
	ts = append(ts, sideBySide("paired", flow, proxied)...)
	// The same side by side with the null plugin as the least a proxy can
	// be: it GETs the URL an application would and answers a constant,
	// with no token, no checks and no decoding.
	relay := target{key: "paired-null-relay", desc: "side by side, call for call: null plugin `relay/shop`, the same Graph call made by the plugin", path: e.nullRelayPath()}
	nullFlow := target{key: "paired-null-read-direct", desc: "side by side, call for call: null plugin `token/shop` read, then the call", path: "null/token/shop", appFlow: true}
	return append(ts, sideBySide("paired-null", nullFlow, relay)...)
}

// sideBySide is the target key measuring flow and proxied side by side, and
// key-meta the same with the fake answering in graphLatency (its targets'
// keys and descriptions say so).
func sideBySide(key string, flow, proxied target) []target {
	meta := func(t target) target {
		t.key += "-meta"
		t.desc += ", the fake answering in " + graphLatency.String()
		return t
	}
	return []target{
		{key: key, sideBySide: []target{flow, proxied}},
		{key: key + "-meta", metaLatency: graphLatency, sideBySide: []target{meta(flow), meta(proxied)}},
	}
}

// nullRelayPath has the null plugin make the direct Graph call (relay/).
func (e *env) nullRelayPath() string {
	return "null/relay/shop?" + url.Values{"url": {e.directURL}}.Encode()
}

// proxyMePath is the proxied call every proxy target makes.
const proxyMePath = "instagram/proxy/shop/me?fields=id,username"

// graphLatency is a typical Graph answer time (Meta's `me` answers in
// 100-300 ms from outside its network): with it, what the proxy adds is
// seen against a real call, not against a loopback fake's 40 µs.
const graphLatency = 100 * time.Millisecond

// urlOf is the whole URL a target reads.
func (e *env) urlOf(t target) string {
	if t.url != "" {
		return t.url
	}
	return e.vault.Addr + "/v1/" + t.path
}

// setupProxy gives shop a post and builds the direct call: Graph's me with
// shop's current token and its appsecret_proof, on the fake's Graph host.
func (e *env) setupProxy(ctx context.Context) error {
	sec, err := e.api.Logical().ReadWithContext(ctx, "instagram/token/shop")
	if err != nil || sec == nil {
		return fmt.Errorf("read instagram/token/shop: %v", err)
	}
	tok, _ := sec.Data["access_token"].(string)
	ep := e.fake.Endpoints()
	e.graphMe = ep.GraphBaseURL + "/" + ep.Version + "/me?"
	e.directURL = e.directMeURL(tok)
	return nil
}

// directMeURL is the Graph call both direct targets make, GET
// me?fields=id,username on the fake's Graph host (graphMe), with tok and
// its appsecret_proof, as an application holding tok sends it.
func (e *env) directMeURL(tok string) string {
	q := url.Values{"fields": {"id,username"}, "access_token": {tok}, "appsecret_proof": {graph.AppSecretProof(e.appSecret, tok)}}
	return e.graphMe + q.Encode()
}

// appFlowOp gives each worker what an application that does not use the
// proxy does for one Graph call, the flow a proxied call replaces: read
// readPath (instagram/token/shop, or the null plugin's copy of its answer)
// from Vault, compute its appsecret_proof, and call Graph with both.
// Measured as one iteration, the read and the call each meet the other
// processes as they are in that rhythm, not as two loops measured apart,
// each keeping its own peer busy, find them.
func (e *env) appFlowOp(ctx context.Context, readPath string) func() (func() error, error) {
	return func() (func() error, error) {
		read, err := http.NewRequestWithContext(ctx, http.MethodGet, e.vault.Addr+"/v1/"+readPath, nil)
		if err != nil {
			return nil, err
		}
		read.Header.Set("X-Vault-Token", rootToken)
		return func() error {
			tok, err := readAccessToken(e.client, read)
			if err != nil {
				return err
			}
			call, err := http.NewRequestWithContext(ctx, http.MethodGet, e.directMeURL(tok), nil)
			if err != nil {
				return err
			}
			return doOne(e.client, call)
		}, nil
	}
}

// readAccessToken reads a token/<name> answer's access_token.
func readAccessToken(client *http.Client, req *http.Request) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ans struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return "", fmt.Errorf("%s: HTTP %d", req.URL.Path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.Data.AccessToken == "" {
		return "", fmt.Errorf("%s: no access_token in the answer (%v)", req.URL.Path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return ans.Data.AccessToken, nil
}

// measureProxyMemory holds proxyInFlight proxied calls in flight (the fake
// answers after proxyHold) and reads the plugin's RSS before and meanwhile.
func (e *env) measureProxyMemory(ctx context.Context) (err error) {
	if _, ok := e.report.get("proxy", 1); !ok {
		return nil
	}
	before, _ := e.pluginRSS(pluginName, 0)
	if err := e.fake.SetLatency(proxyHold); err != nil {
		return err
	}
	defer func() {
		if rerr := e.fake.SetLatency(0); rerr != nil && err == nil {
			err = rerr
		}
	}()
	client := newHTTPClient(proxyInFlight, e.fake.RootCAs())
	var wg sync.WaitGroup
	errs := make(chan error, proxyInFlight)
	for range proxyInFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.vault.Addr+"/v1/"+proxyMePath, nil)
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("X-Vault-Token", rootToken)
			if err := doOne(client, req); err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(proxyHold / 2) // the calls are in flight, held by the fake
	during, _ := e.pluginRSS(pluginName, 0)
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("proxied call in flight: %w", err)
	}
	e.report.proxyMemory = proxyMemory{inFlight: proxyInFlight, before: before, during: during}
	logf("proxy: %d calls in flight: plugin RSS %s -> %s", proxyInFlight, fmtMiB(before), fmtMiB(during))
	return nil
}

// proxyMarkdown is the direct-vs-proxy tables and their verdicts.
func (r *report) proxyMarkdown(p func(string, ...any)) {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := r.get(k, 1); ok {
				return true
			}
		}
		return false
	}
	proxied := has("proxy")
	paired := has("paired-proxy", "paired-proxy-meta")
	pairedNull := has("paired-null-relay", "paired-null-relay-meta")
	if !proxied && !paired && !pairedNull {
		return
	}
	const flow, through = "`token/shop` read, then the call (an application without the proxy)", "through `proxy/shop/me`"
	flowTable := func(title, flow, through, ratio string, pairs [][2]string) {
		p("| %s | conns | %s | %s | %s ÷ read-then-call p50, per round | median | |\n|---|---:|---:|---:|---|---:|---|\n", title, flow, through, ratio)
		for _, pair := range pairs {
			r.proxyFlowRows(p, pair[0], pair[1])
		}
		p("\n")
	}
	if paired {
		flowTable("issue 24, side by side: one Graph `me` call, each worker alternating the two call for call", flow, through, "proxy", [][2]string{{"paired-read-direct", "paired-proxy"}, {"paired-read-direct-meta", "paired-proxy-meta"}})
	}
	if pairedNull {
		flowTable("the least a proxy can add, side by side: the null plugin making the same Graph call and answering a constant",
			"null plugin `token/shop` read, then the call", "null plugin `relay/shop`, the plugin making the call", "relay", [][2]string{{"paired-null-read-direct", "paired-null-relay"}, {"paired-null-read-direct-meta", "paired-null-relay-meta"}})
	}
	if _, ok := r.get("read-direct", 1); ok && proxied {
		flowTable("issue 24: one Graph `me` call", flow, through, "proxy", [][2]string{{"read-direct", "proxy"}, {"read-direct-meta", "proxy-meta"}})
	}
	if _, ok := r.get("direct", 1); ok && proxied {
		p("| issue 24, the parts measured apart: Graph `me` call | conns | direct (token in hand) | through `proxy/shop/me` | proxy ÷ direct rate | proxy − direct p50 | `token/shop` p50 | |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
		for _, pair := range [][2]string{{"direct", "proxy"}, {"direct-meta", "proxy-meta"}} {
			r.proxyRows(p, pair[0], pair[1])
		}
	}
	if m := r.proxyMemory; m.inFlight > 0 {
		per := float64(m.during-m.before) * 1024 / float64(m.inFlight)
		p("\nPlugin memory with %d proxied calls in flight (the fake holding each %s): RSS %s before, %s during: %.1f KiB a call in flight.\n",
			m.inFlight, proxyHold, fmtMiB(m.before), fmtMiB(m.during), per/1024)
	}
	p("\n")
}

// fakeAnswering says how the fake answered a target's calls: its -meta
// variants wait graphLatency.
func fakeAnswering(key string) string {
	if strings.HasSuffix(key, "-meta") {
		return "fake answering in " + graphLatency.String()
	}
	return "fake answering at once"
}

// proxyFlowRows compare a proxied call with the flow it replaces, a row a
// concurrency: the proxy adds at most one token read to a call when it is
// no slower than the read and the call made one after the other. The
// verdict is on the median of the per-round ratios, each a pair measured in
// the same round, so that drift on a shared machine falls on both.
func (r *report) proxyFlowRows(p func(string, ...any), flow, proxied string) {
	what := fakeAnswering(flow)
	for _, c := range r.o.conns {
		f, ok1 := r.get(flow, c)
		px, ok2 := r.get(proxied, c)
		if !ok1 || !ok2 {
			continue
		}
		fr, pr := r.cells[flow][c].p50s, r.cells[proxied][c].p50s
		var rs []float64
		for i := range min(len(fr), len(pr)) {
			rs = append(rs, ratio(float64(pr[i]), float64(fr[i])))
		}
		med := median(rs)
		p("| %s | %d | %.0f/s, p50 %s, p99 %s | %.0f/s, p50 %s, p99 %s | %s | %s | %s |\n",
			what, c, f.rate(), fmtDur(f.P50), fmtDur(f.P99), px.rate(), fmtDur(px.P50), fmtDur(px.P99),
			fmtRatios(rs), fmtRatio(med), verdict(len(rs) > 0 && med <= 1 && px.Errors == 0 && f.Errors == 0))
	}
}

// proxyRows are the second table's rows for one pair of targets, a row a
// concurrency: the direct call and a token read each measured in a loop of
// its own, the way the first report of the proxy measured them.
func (r *report) proxyRows(p func(string, ...any), direct, proxied string) {
	what := "GET me?fields=id,username, " + fakeAnswering(direct)
	for _, c := range r.o.conns {
		d, ok1 := r.get(direct, c)
		px, ok2 := r.get(proxied, c)
		tok, ok3 := r.get("token", c)
		if !ok1 || !ok2 {
			continue
		}
		rr := ratio(px.rate(), d.rate())
		extra := px.P50 - d.P50
		tokP50 := "—"
		verdictOK := true
		if ok3 {
			tokP50 = fmtDur(tok.P50)
			verdictOK = extra <= tok.P50
		}
		if c >= 16 {
			verdictOK = verdictOK && rr >= targetProxyRateRatio
		}
		p("| %s | %d | %.0f/s, p50 %s, p99 %s | %.0f/s, p50 %s, p99 %s | %s | %s | %s | %s |\n",
			what, c, d.rate(), fmtDur(d.P50), fmtDur(d.P99), px.rate(), fmtDur(px.P50), fmtDur(px.P99),
			fmtRatio(rr), fmtDur(extra), tokP50, verdict(verdictOK && px.Errors == 0 && d.Errors == 0))
	}
}
