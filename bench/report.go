package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// Targets of issue 8, for token reads at the highest concurrency measured.
const (
	targetRateRatio = 0.9 // plugin rate ≥ 0.9 × null plugin rate
	targetP99Ratio  = 1.2 // plugin p99 ≤ 1.2 × null plugin p99
)

type cell struct {
	lat    []time.Duration
	errors int
	window time.Duration
	rates  []float64
	p50s   []time.Duration // each round's p50, for per-round ratios
	first  error
}

func (c *cell) summary() summary {
	s := summarize(c.lat, c.errors, c.window)
	s.FirstErr = c.first
	return s
}

type registration struct {
	n, total int
	took     time.Duration
}

type memSnapshot struct {
	accounts     int
	when         string
	pluginPID    int
	plugin, null int64
	vault        int64
}

type reload struct {
	accounts    int
	at          time.Time // when the reload was asked for
	call, ready time.Duration
	rss         int64
	oldPID, pid int
	probe       probeResult
}

type report struct {
	o                           options
	b                           builds
	start                       time.Time
	cells                       map[string]map[int]*cell
	order                       []target
	vaultVersion                string
	loadBefore, loadAfter       string
	tokenFields, tokenDataBytes int
	accessTokenLen              int
	bodyBytes                   map[string]int
	listKeys                    int
	registrations               []registration
	rssAtAccounts, rssAtScale   memSnapshot
	reloads                     []reload
	metrics                     []metricsScrape
	scale                       []scaleResult
	proxyMemory                 proxyMemory
	metaHTTPS                   bool
	metaProtocols               []graphtest.ProtocolCount // nil: not read
}

func newReport(o options, b builds) *report {
	return &report{o: o, b: b, start: time.Now(), cells: map[string]map[int]*cell{}, bodyBytes: map[string]int{}}
}

func (r *report) add(t target, conns int, s sample) {
	if r.cells[t.key] == nil {
		r.cells[t.key] = map[int]*cell{}
		r.order = append(r.order, t)
	}
	c := r.cells[t.key][conns]
	if c == nil {
		c = &cell{}
		r.cells[t.key][conns] = c
	}
	if len(s.lat) > 0 {
		c.p50s = append(c.p50s, summarize(slices.Clone(s.lat), 0, s.window).P50)
	}
	c.lat = append(c.lat, s.lat...)
	c.errors += s.errors
	c.window += s.window
	c.rates = append(c.rates, float64(len(s.lat))/s.window.Seconds())
	if c.first == nil {
		c.first = s.firstErr
	}
}

func (r *report) get(key string, conns int) (summary, bool) {
	c := r.cells[key][conns]
	if c == nil {
		return summary{}, false
	}
	return c.summary(), true
}

func (r *report) markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("## Results (%s)\n\n", r.start.UTC().Format("2006-01-02 15:04 MST"))
	p("- machine: %d CPUs (`nproc`), %s, Go %s (%s/%s)\n", runtime.NumCPU(), cpuModel(), strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH)
	p("- %s `server -dev` (in-memory storage) on 127.0.0.1, log level warn; plugin %s; null plugin from `bench/nullplugin`\n", r.vaultVersion, r.b.PluginVersion)
	p("- fake Meta (`graph/graphtest`): the `fakemeta` command, a process of its own on 127.0.0.1, so that a direct Graph call and the plugin's cross the same process boundary to it, as they do to Meta; %s", r.metaProtocolDesc())
	if r.metaProtocols != nil {
		p("; %s", metaProtocolsText(r.metaProtocols, r.metaHTTPS))
	}
	p("\n")
	metaLoad := "HTTP/2 over TLS to the fake Meta, the workers' calls multiplexed on one connection as Go's client does to Meta"
	if !r.metaHTTPS {
		metaLoad = "HTTP/1.1 to the fake Meta too, a connection per worker"
	}
	p("- load: one Go client, keep-alive, HTTP/1.1 to Vault with one connection per worker, %s; %s warm-up + %s measured per cell, %d round(s), reads interleaved; client, Vault and plugins share the CPUs\n", metaLoad, r.o.warmup, r.o.duration, r.o.rounds)
	p("- load average before/after: %s / %s\n", r.loadBefore, r.loadAfter)
	p("- token/shop answer: %d fields, %d bytes of JSON data (access_token %d chars); the null plugin answers the same data, KV-v2 holds it as its value\n", r.tokenFields, r.tokenDataBytes, r.accessTokenLen)
	p("- LIST accounts/ answers %d keys\n\n", r.listKeys)

	// Reads table.
	nullKey, kvKey := "null", "kv"
	p("| read | conns | req/s | p50 | p99 | body | errors | ÷ KV req/s | ÷ null req/s | ÷ null p99 |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.order {
		for _, c := range r.o.conns {
			s, ok := r.get(t.key, c)
			if !ok {
				continue
			}
			rate := fmt.Sprintf("%.0f", s.rate())
			if cc := r.cells[t.key][c]; len(cc.rates) > 1 {
				rate += fmt.Sprintf(" (%.0f–%.0f)", slices.Min(cc.rates), slices.Max(cc.rates))
			}
			vsKV, vsNull, vsNullP99 := "", "", ""
			if strings.HasPrefix(t.desc, "instagram") {
				if kv, ok := r.get(kvKey, c); ok {
					vsKV = fmtRatio(ratio(s.rate(), kv.rate()))
				}
				nk := nullKey
				if t.key == "list" {
					nk = "null-list" // the ceiling of a LIST is a LIST
				}
				if n, ok := r.get(nk, c); ok {
					vsNull = fmtRatio(ratio(s.rate(), n.rate()))
					vsNullP99 = fmtRatio(ratio(float64(s.P99), float64(n.P99)))
				}
			}
			p("| %s | %d | %s | %s | %s | %d B | %d | %s | %s | %s |\n",
				t.desc, c, rate, fmtDur(s.P50), fmtDur(s.P99), r.bodyBytes[t.key], s.Errors, vsKV, vsNull, vsNullP99)
		}
	}
	p("\n")
	for _, t := range r.order {
		for _, c := range r.o.conns {
			if s, ok := r.get(t.key, c); ok && s.FirstErr != nil {
				p("- %s at %d conns: first error: %v\n", t.key, c, s.FirstErr)
			}
		}
	}

	// Verdict on the targets.
	top := slices.Max(r.o.conns)
	tok, okT := r.get("token", top)
	null, okN := r.get(nullKey, top)
	if okT && okN {
		rr := ratio(tok.rate(), null.rate())
		pr := ratio(float64(tok.P99), float64(null.P99))
		p("**Targets at %d connections:** token reads %.0f/s = %s × the null plugin's %.0f/s (target ≥ %.1f): **%s**; p99 %s = %s × the null plugin's %s (target ≤ %.1f): **%s**.\n\n",
			top, tok.rate(), fmtRatio(rr), null.rate(), targetRateRatio, verdict(rr >= targetRateRatio),
			fmtDur(tok.P99), fmtRatio(pr), fmtDur(null.P99), targetP99Ratio, verdict(pr <= targetP99Ratio))
		if tc, nc := r.cells["token"][top], r.cells[nullKey][top]; len(tc.rates) > 1 && len(tc.rates) == len(nc.rates) {
			paired := make([]float64, len(tc.rates))
			for i := range paired {
				paired[i] = ratio(tc.rates[i], nc.rates[i])
			}
			p("Per-round token ÷ null rate ratios at %d connections (each pair measured back to back): %s; median %s.\n\n",
				top, fmtRatios(paired), fmtRatio(median(paired)))
		}
	}

	if len(r.registrations) > 0 {
		p("| registration (access_token + expires_at, %d in flight) | accounts | took | per second |\n|---|---:|---:|---:|\n", r.o.regConc)
		for _, g := range r.registrations {
			p("| accounts %d → %d | %d | %s | %.0f |\n", g.total-g.n, g.total, g.n, g.took.Round(time.Millisecond), float64(g.n)/g.took.Seconds())
		}
		p("\n")
	}

	p("| memory (VmRSS) | accounts | plugin process | null plugin process | Vault |\n|---|---:|---:|---:|---:|\n")
	for _, m := range []memSnapshot{r.rssAtAccounts, r.rssAtScale} {
		if m.accounts == 0 {
			continue
		}
		p("| %s | %d | %s | %s | %s |\n", m.when+" (read cache warm)", m.accounts, fmtMiB(m.plugin), fmtMiB(m.null), fmtMiB(m.vault))
	}
	for _, rl := range r.reloads {
		p("| after a plugin reload (new process, schedule only, cache cold) | %d | %s | | |\n", rl.accounts, fmtMiB(rl.rss))
	}
	p("\n")

	r.metricsMarkdown(p)
	r.proxyMarkdown(p)
	r.scaleMarkdown(p)

	if len(r.reloads) > 0 {
		p("| plugin reload (`PUT sys/plugins/reload/backend`) | accounts | reload call | until `status` reports them all | `token/shop` read every 50 ms meanwhile |\n|---|---:|---:|---:|---|\n")
		for _, rl := range r.reloads {
			p("| new process, schedule rebuilt from storage | %d | %s | %s | %s |\n", rl.accounts, rl.call.Round(time.Millisecond), rl.ready.Round(time.Millisecond), rl.probe)
		}
		p("\n")
	}
	return w.String()
}

// metaProtocolDesc is how the fake Meta was served and reached.
func (r *report) metaProtocolDesc() string {
	if r.metaHTTPS {
		return "it serves https with HTTP/2 (ALPN), as Meta does, with a certificate made at its start that the plugin (SSL_CERT_FILE) and the benchmark's client trust, and the plugin and the direct client both reach it that way"
	}
	return "it serves plain http (-meta-http1), so the plugin and the direct client both reach it over HTTP/1.1, where Meta is https with HTTP/2"
}

func fmtRatios(rs []float64) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmtRatio(r)
	}
	return strings.Join(out, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
