// Command bench measures the instagram secrets engine against its ceiling,
// in a real `vault server -dev` on loopback: token reads next to the same
// read from a null external plugin on the same SDK (bench/nullplugin), a
// KV-v2 read of a value of the same size, the operator's account read and a
// LIST of 10,000 accounts, a Prometheus scrape of the metrics path; then the
// plugin process's memory and the time it takes to rebuild its refresh
// schedule when it starts.
//
//	go run ./bench            # or: make bench
//	go run ./bench -h         # flags
//
// The fake Meta runs as a process of its own (the fakemeta command), as Meta
// is never inside an application, and serves https with HTTP/2, as Meta
// does (fakeMeta; -meta-http1: plain http). Everything listens on
// 127.0.0.1; Vault, the plugins and the fake Meta are stopped on exit, and the load is bounded by -duration, -warmup and -conns.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/bench/nullbackend"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	conns       []int
	rounds      int
	accounts    int
	scale       int
	regConc     int
	out         string
	vaultPprof  string
	skipReload  bool
	onlyTargets string
	metaHTTP1   bool
}

func parseFlags() options {
	var o options
	var conns string
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per (read, concurrency) cell")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each cell")
	flag.StringVar(&conns, "conns", "1,16", "comma-separated concurrent connections to measure at")
	flag.IntVar(&o.rounds, "rounds", 1, "repeat the whole matrix this many times, interleaved (rates are pooled, spreads shown)")
	flag.IntVar(&o.accounts, "accounts", 10_000, "accounts registered before measuring (shop included): what LIST returns")
	flag.IntVar(&o.scale, "scale", 0, "after measuring, register up to this many accounts and measure RSS and schedule rebuild time (e.g. 100000); 0: off")
	flag.IntVar(&o.regConc, "register-concurrency", 16, "registrations in flight at once")
	flag.StringVar(&o.out, "out", "", "also write the report (markdown) to this file")
	flag.StringVar(&o.vaultPprof, "vault-pprof", "", "capture a CPU profile of the Vault server process during an extra 16-connection token/shop run into this file")
	flag.BoolVar(&o.skipReload, "skip-reload", false, "skip the plugin reload (schedule rebuild) measurement")
	flag.BoolVar(&o.metaHTTP1, "meta-http1", false, "run the fake Meta on plain http, so that the plugin's and the direct Graph calls use HTTP/1.1, for comparison; by default it serves https with HTTP/2, as Meta does, and both reach it that way")
	flag.StringVar(&o.onlyTargets, "targets", "", "comma-separated subset of reads to measure (token,null,null-cb,null-stored,kv,account,list,null-list; the Graph pass-through: proxy,direct,read-direct,paired,paired-null and each with -meta); default all")
	flag.Parse()
	for f := range strings.SplitSeq(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			fatalf("-conns: %q is not a number of connections in 1..256", f)
		}
		o.conns = append(o.conns, n)
	}
	if o.rounds < 1 || o.accounts < 1 || o.regConc < 1 || o.duration <= 0 {
		fatalf("-rounds, -accounts, -register-concurrency and -duration must be positive")
	}
	return o
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func main() {
	o := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		stop()
		fatalf("%v", err)
	}
}

// env is the world under test.
type env struct {
	o      options
	b      builds
	vault  *vaultproc.Dev
	api    *api.Client
	fake   *fakeMeta
	client *http.Client
	report *report
	// directURL is a Graph call with shop's token on the fake Meta: what an
	// application that read token/shop sends (setupProxy).
	directURL string
	// graphMe is the fake's Graph me URL up to its query (setupProxy).
	graphMe   string
	appSecret string
}

func run(ctx context.Context, o options) (err error) {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work := filepath.Join(root, ".cache", "bench")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}

	logf("building Vault, the plugin, the null plugin and the fake Meta")
	b, err := buildAll(root, work)
	if err != nil {
		return err
	}

	e := &env{o: o, b: b, report: newReport(o, b)}
	e.report.loadBefore = loadAvg()

	appSecret := "bench-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fakeLog := filepath.Join(work, "fakemeta.log")
	fakeCert := filepath.Join(work, "fakemeta-ca.pem") // next to its log
	if o.metaHTTP1 {
		fakeCert = ""
	}
	if e.fake, err = startFakeMeta(b.fakeMetaBin, "bench-app", appSecret, fakeLog, fakeCert); err != nil {
		return err
	}
	e.appSecret = appSecret
	e.report.metaHTTPS = e.fake.HTTPS()
	defer func() {
		if cerr := e.fake.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	logf("fake Meta up at %s (pid %d, log %s)", e.fake.base, e.fake.proc.Pid(), fakeLog)

	logPath := filepath.Join(work, "vault.log")
	e.vault, err = startVault(b, logPath)
	if err != nil {
		return err
	}
	defer e.vault.Stop(15 * time.Second)
	logf("vault up at %s (pid %d, log %s)", e.vault.Addr, e.vault.Pid(), logPath)
	if e.report.vaultVersion, err = vaultVersion(b.VaultBin); err != nil {
		return err
	}

	cfg := api.DefaultConfig()
	cfg.Address = e.vault.Addr
	cfg.MaxRetries = 0
	cfg.Timeout = 10 * time.Minute // a reload rebuilds the schedule synchronously
	if e.api, err = api.NewClient(cfg); err != nil {
		return err
	}
	e.api.SetToken(rootToken)
	e.api.ClearNamespace()
	// After the fake has started: its certificate is made at its start.
	e.client = newHTTPClient(slices.Max(o.conns), e.fake.RootCAs())

	if err := e.setup(ctx, appSecret); err != nil {
		return err
	}
	if err := e.registerMany(ctx, 1, o.accounts); err != nil {
		return err
	}
	if err := e.checkList(o.accounts); err != nil {
		return err
	}
	e.report.rssAtAccounts = e.memory(o.accounts, "after registering")
	if err := e.measureMetrics(ctx, o.accounts); err != nil {
		return err
	}

	if err := e.setupProxy(ctx); err != nil {
		return err
	}
	if err := e.measureAll(ctx); err != nil {
		return err
	}
	if err := e.measureProxyMemory(ctx); err != nil {
		return err
	}
	if o.vaultPprof != "" {
		if err := e.profileVault(ctx, o.vaultPprof); err != nil {
			logf("vault profile: %v", err)
		}
	}
	if !o.skipReload {
		if err := e.measureReload(ctx, o.accounts); err != nil {
			return err
		}
	}
	if o.scale > o.accounts {
		if err := e.registerMany(ctx, o.accounts, o.scale); err != nil {
			return err
		}
		e.report.rssAtScale = e.memory(o.scale, "after registering")
		if err := e.measureMetrics(ctx, o.scale); err != nil {
			return err
		}
		if err := e.measureReload(ctx, o.scale); err != nil {
			return err
		}
		if err := e.measureScale(ctx, o.scale, e.report.reloads[len(e.report.reloads)-1]); err != nil {
			return err
		}
	}
	e.report.loadAfter = loadAvg()
	if e.report.metaProtocols, err = e.fake.Protocols(); err != nil {
		logf("%v", err)
		err = nil
	} else {
		logf("fake Meta: %s", metaProtocolsText(e.report.metaProtocols, e.report.metaHTTPS))
	}

	text := e.report.markdown()
	fmt.Print(text)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return err
		}
		logf("report written to %s", o.out)
	}
	return nil
}

// repoRoot is the directory holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "scripts", "build-plugin.sh")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run bench from inside the repository (no go.mod with scripts/build-plugin.sh above the working directory)")
		}
		dir = parent
	}
}

func vaultVersion(bin string) (string, error) {
	out, err := runCmd(bin, "version")
	if err != nil {
		return "", err
	}
	v, _, _ := strings.Cut(strings.TrimSpace(out), ",")
	return v, nil
}

// setup registers and mounts both plugins and KV-v2, configures the
// instagram mount against the fake Meta and registers "shop"; the null
// plugin's constant answer and the KV value are shop's token read itself.
func (e *env) setup(ctx context.Context, appSecret string) error {
	sys := e.api.Sys()
	// The plugin trusts the fake's certificate (on https) by SSL_CERT_FILE.
	if err := e.b.RegisterAndMount(ctx, sys, "instagram", e.fake.PluginEnv()...); err != nil {
		return err
	}
	ep := e.fake.Endpoints()
	if _, err := e.api.Logical().WriteWithContext(ctx, "instagram/config", map[string]any{
		"app_id": e.fake.AppID(), "app_secret": appSecret,
		"redirect_uri":  e.vault.Addr + "/v1/instagram/callback",
		"auth_base_url": ep.AuthBaseURL, "api_base_url": ep.APIBaseURL, "graph_base_url": ep.GraphBaseURL,
		"facebook_auth_base_url": ep.FacebookAuthBaseURL, "facebook_graph_base_url": ep.FacebookGraphBaseURL,
		"graph_api_version": ep.Version,
	}); err != nil {
		return fmt.Errorf("write instagram/config: %w", err)
	}
	if err := e.register(ctx, "shop"); err != nil {
		return err
	}

	// shop's token read, exactly as applications get it.
	sec, err := e.api.Logical().ReadWithContext(ctx, "instagram/token/shop")
	if err != nil || sec == nil {
		return fmt.Errorf("read instagram/token/shop: %v", err)
	}
	data, err := json.Marshal(sec.Data)
	if err != nil {
		return err
	}
	e.report.tokenFields = len(sec.Data)
	e.report.tokenDataBytes = len(data)
	if tok, ok := sec.Data["access_token"].(string); ok {
		e.report.accessTokenLen = len(tok)
	}

	if err := sys.RegisterPluginWithContext(ctx, &api.RegisterPluginInput{
		Name: nullPluginName, Type: api.PluginTypeSecrets, Command: nullPluginName,
		// The fake's certificate, for relay/, as the instagram plugin has.
		SHA256: e.b.nullSHA, Env: append([]string{
			"NULLPLUGIN_RESPONSE=" + string(data),
			"NULLPLUGIN_LIST_KEYS=" + strconv.Itoa(e.o.accounts),
		}, e.fake.PluginEnv()...),
	}); err != nil {
		return fmt.Errorf("register %s: %w", nullPluginName, err)
	}
	if err := sys.MountWithContext(ctx, "null", &api.MountInput{Type: nullPluginName}); err != nil {
		return fmt.Errorf("mount null/: %w", err)
	}
	if _, err := e.api.Logical().WriteWithContext(ctx, "null/stored/shop", sec.Data); err != nil {
		return fmt.Errorf("write null/stored/shop: %w", err)
	}
	if err := sys.MountWithContext(ctx, "kv", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		return fmt.Errorf("mount kv/: %w", err)
	}
	// A fresh KV-v2 mount refuses writes for a moment while it upgrades.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = e.api.Logical().WriteWithContext(ctx, "kv/data/shop", map[string]any{"data": sec.Data})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("write kv/data/shop: %w", err)
	}

	// The three reads must answer the same data.
	for _, p := range []string{"null/token/shop", "null/token-cb/shop", "null/stored/shop"} {
		got, err := e.api.Logical().ReadWithContext(ctx, p)
		if err != nil || got == nil {
			return fmt.Errorf("read %s: %v", p, err)
		}
		if b, _ := json.Marshal(got.Data); string(b) != string(data) {
			return fmt.Errorf("%s answers %s, not instagram/token/shop's %s", p, b, data)
		}
	}
	return nil
}

// responseBytes is the size of the HTTP body a read answers.
func (e *env) responseBytes(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: HTTP %d: %s", strings.Split(url, "?")[0], resp.StatusCode, body)
	}
	return len(body), nil
}

// register registers one account through the fast path: a long-lived token
// with its expiry, so the engine calls Meta only for /me.
func (e *env) register(ctx context.Context, name string) error {
	issued := time.Now().Add(-time.Hour)
	tok, err := e.fake.MintLongLivedToken(name, []string{"instagram_business_basic", "instagram_business_content_publish"}, issued)
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	_, err = e.api.Logical().WriteWithContext(ctx, "instagram/accounts/"+name, map[string]any{
		"access_token": tok,
		"expires_at":   issued.Add(graphtest.LongLivedLifetime).UTC().Format(time.RFC3339),
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	return nil
}

func bulkName(i int) string { return nullbackend.AccountName(i) }

// registerMany registers accounts bulkName(from)..bulkName(to-1) with at
// most -register-concurrency in flight.
func (e *env) registerMany(ctx context.Context, from, to int) error {
	if to <= from {
		return nil
	}
	logf("registering %d accounts (%d at once)", to-from, e.o.regConc)
	start := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range e.o.regConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to || ctx.Err() != nil {
					return
				}
				if err := e.register(ctx, bulkName(i)); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(to)) // stop the others
					return
				}
				if done := i - from + 1; done%10_000 == 0 {
					logf("  %d registered", done)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := time.Since(start)
	e.report.registrations = append(e.report.registrations, registration{n: to - from, total: to, took: d})
	logf("registered %d accounts in %s (%.0f/s)", to-from, d.Round(time.Millisecond), float64(to-from)/d.Seconds())
	return nil
}

// checkList makes sure LIST accounts/ answers its first page of n accounts,
// and the null plugin's LIST keys/ the same keys.
func (e *env) checkList(n int) error {
	sec, err := e.api.Logical().List("instagram/accounts")
	if err != nil || sec == nil {
		return fmt.Errorf("list instagram/accounts: %v", err)
	}
	keys, _ := sec.Data["keys"].([]any)
	if want := min(n, nullbackend.ListPage); len(keys) != want {
		return fmt.Errorf("list instagram/accounts: %d keys, want %d", len(keys), want)
	}
	e.report.listKeys = len(keys)
	nsec, err := e.api.Logical().List("null/keys")
	if err != nil || nsec == nil {
		return fmt.Errorf("list null/keys: %v", err)
	}
	a, _ := json.Marshal(sec.Data["keys"])
	b, _ := json.Marshal(nsec.Data["keys"])
	if string(a) != string(b) {
		return fmt.Errorf("LIST null/keys does not answer the keys LIST instagram/accounts does (%d vs %d bytes)", len(b), len(a))
	}
	return nil
}

// memory reads the RSS of both plugin processes and of Vault.
func (e *env) memory(accounts int, when string) memSnapshot {
	m := memSnapshot{accounts: accounts, when: when}
	m.plugin, m.pluginPID = e.pluginRSS(pluginName, 0)
	m.null, _ = e.pluginRSS(nullPluginName, 0)
	m.vault, _ = rssKiB(e.vault.Pid())
	logf("RSS with %d accounts %s: plugin %s, null plugin %s, vault %s", accounts, when, fmtMiB(m.plugin), fmtMiB(m.null), fmtMiB(m.vault))
	return m
}

// pluginRSS finds the plugin's process among Vault's children (the newest
// one other than notPID, after a reload) and reads its VmRSS.
func (e *env) pluginRSS(name string, notPID int) (int64, int) {
	var pids []int
	for range 50 {
		all, err := childPIDs(e.vault.Pid(), name)
		if err != nil {
			logf("find %s process: %v", name, err)
			return 0, 0
		}
		pids = slices.DeleteFunc(all, func(p int) bool { return p == notPID })
		if len(pids) == 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(pids) == 0 {
		logf("no %s process under vault (pid %d)", name, e.vault.Pid())
		return 0, 0
	}
	pid := slices.Max(pids)
	kib, err := rssKiB(pid)
	if err != nil {
		logf("RSS of %s (pid %d): %v", name, pid, err)
	}
	return kib, pid
}

// measureReload reloads the plugin (a new process whose initialize rebuilds
// the schedule from storage) and times it until status reports n accounts.
func (e *env) measureReload(ctx context.Context, n int) error {
	_, oldPID := e.pluginRSS(pluginName, 0)
	logf("reloading %s with %d accounts", pluginName, n)
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	probeDone := make(chan probeResult, 1)
	go func() { probeDone <- e.probe(probeCtx, "instagram/token/shop", 50*time.Millisecond) }()
	time.Sleep(100 * time.Millisecond) // a probe or two before the reload
	start := time.Now()
	_, err := e.api.Sys().ReloadPluginWithContext(ctx, &api.ReloadPluginInput{Plugin: pluginName})
	reloadCall := time.Since(start)
	if err != nil {
		stopProbe()
		<-probeDone
		return fmt.Errorf("reload %s: %w", pluginName, err)
	}
	deadline := start.Add(15 * time.Minute)
	for {
		total, err := e.accountsTotal(ctx)
		if err == nil && total == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("status never reported %d accounts after the reload (last: %d, %v)", n, total, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := reload{accounts: n, at: start, call: reloadCall, ready: time.Since(start)}
	time.Sleep(100 * time.Millisecond) // a probe or two after
	stopProbe()
	r.probe = <-probeDone
	r.rss, r.pid = e.pluginRSS(pluginName, oldPID)
	r.oldPID = oldPID
	logf("reload with %d accounts: call %s, status ready after %s, RSS %s (pid %d -> %d); token/shop during it: %s",
		n, reloadCall.Round(time.Millisecond), r.ready.Round(time.Millisecond), fmtMiB(r.rss), oldPID, r.pid, r.probe)
	e.report.reloads = append(e.report.reloads, r)
	return nil
}

// probeResult is what a reader of one path saw while something else went on.
type probeResult struct {
	reads, failed int
	slowest       time.Duration
	firstErr      error
}

func (p probeResult) String() string {
	s := fmt.Sprintf("%d reads, %d failed, slowest %s", p.reads, p.failed, p.slowest.Round(time.Millisecond))
	if p.firstErr != nil {
		s += fmt.Sprintf(" (first failure: %v)", p.firstErr)
	}
	return s
}

// probe reads path every interval, one read at a time, until ctx ends.
func (e *env) probe(ctx context.Context, path string, interval time.Duration) probeResult {
	var p probeResult
	hc := &http.Client{Transport: e.client.Transport, Timeout: 5 * time.Minute}
	for ctx.Err() == nil {
		req, err := http.NewRequest(http.MethodGet, e.vault.Addr+"/v1/"+path, nil)
		if err != nil {
			p.firstErr = err
			return p
		}
		req.Header.Set("X-Vault-Token", rootToken)
		t0 := time.Now()
		err = doOne(hc, req)
		d := time.Since(t0)
		p.reads++
		p.slowest = max(p.slowest, d)
		if err != nil {
			p.failed++
			if p.firstErr == nil {
				p.firstErr = err
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	return p
}

func (e *env) accountsTotal(ctx context.Context) (int, error) {
	sec, err := e.api.Logical().ReadWithContext(ctx, "instagram/status")
	if err != nil || sec == nil {
		return -1, fmt.Errorf("read status: %v", err)
	}
	n, ok := sec.Data["accounts_total"].(json.Number)
	if !ok {
		return -1, fmt.Errorf("status has no accounts_total: %v", sec.Data)
	}
	v, err := n.Int64()
	return int(v), err
}

// allTargets are the reads, the plugin's first.
func allTargets() []target {
	return []target{
		{key: "token", desc: "instagram `token/shop`", path: "instagram/token/shop"},
		{key: "null", desc: "null plugin `token/shop` (constant)", path: "null/token/shop"},
		{key: "null-cb", desc: "null plugin `token-cb/shop` (constant, no ReplicationState call)", path: "null/token-cb/shop"},
		{key: "null-stored", desc: "null plugin `stored/shop` (1 storage read)", path: "null/stored/shop"},
		{key: "kv", desc: "KV-v2 `kv/data/shop`", path: "kv/data/shop"},
		{key: "account", desc: "instagram `accounts/shop`", path: "instagram/accounts/shop"},
		{key: "list", desc: "instagram `LIST accounts/`", path: "instagram/accounts?list=true"},
		{key: "null-list", desc: "null plugin `LIST keys/` (same keys, constant)", path: "null/keys?list=true"},
	}
}

func (e *env) targets() []target {
	all := append(allTargets(), e.proxyTargets()...)
	if e.o.onlyTargets == "" {
		return all
	}
	want := strings.Split(e.o.onlyTargets, ",")
	return slices.DeleteFunc(all, func(t target) bool { return !slices.Contains(want, t.key) })
}

// roundOrder is the order of the reads in one round: token/shop and the null
// plugin's token/shop back to back (alternating which goes first), as the
// pair the targets compare, then the others rotated by round, so that drift
// on a shared machine is spread over all of them rather than landing on one.
func roundOrder(ts []target, round int) []target {
	var pair, rest []target
	for _, t := range ts {
		if t.key == "token" || t.key == "null" {
			pair = append(pair, t)
		} else {
			rest = append(rest, t)
		}
	}
	if round%2 == 1 {
		slices.Reverse(pair)
	}
	out := pair
	for i := range rest {
		out = append(out, rest[(i+round)%len(rest)])
	}
	return out
}

// measureAll runs every (read, concurrency) cell -rounds times, in
// roundOrder.
func (e *env) measureAll(ctx context.Context) error {
	ts := e.targets()
	for _, t := range ts {
		for _, m := range t.measured() {
			n, err := e.responseBytes(ctx, e.urlOf(m))
			if err != nil {
				return err
			}
			e.report.bodyBytes[m.key] = n
		}
	}
	for round := range e.o.rounds {
		for _, c := range e.o.conns {
			for _, t := range roundOrder(ts, round) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err := e.fake.SetLatency(t.metaLatency); err != nil {
					return err
				}
				measured := t.measured()
				ops := make([]func() (func() error, error), len(measured))
				for i, m := range measured {
					ops[i] = e.opFor(ctx, m)
				}
				ss := loadRunSeq(ctx, c, e.o.warmup, e.o.duration, eachOp(ops))
				if err := e.fake.SetLatency(0); err != nil {
					return err
				}
				for i, s := range ss {
					rate := float64(len(s.lat)) / s.window.Seconds()
					logf("round %d/%d %-12s conns=%-3d %8.0f req/s errors=%d", round+1, e.o.rounds, measured[i].key, c, rate, s.errors)
					if s.firstErr != nil {
						logf("  first error: %v", s.firstErr)
					}
					e.report.add(measured[i], c, s)
				}
			}
		}
	}
	return nil
}

// opFor is what each worker does for one iteration of t.
func (e *env) opFor(ctx context.Context, t target) func() (func() error, error) {
	if t.appFlow {
		return e.appFlowOp(ctx, t.path)
	}
	return getOp(ctx, e.client, e.urlOf(t), rootToken)
}

// eachOp gives each worker one of each of ops, for loadRunSeq.
func eachOp(ops []func() (func() error, error)) func() ([]func() error, error) {
	return func() ([]func() error, error) {
		out := make([]func() error, len(ops))
		for i, newOp := range ops {
			op, err := newOp()
			if err != nil {
				return nil, err
			}
			out[i] = op
		}
		return out, nil
	}
}

// profileVault takes a CPU profile of the Vault server (sys/pprof) while 16
// connections read token/shop; the plugin process is not reachable this
// way, its share shows as time waiting on gRPC.
func (e *env) profileVault(ctx context.Context, path string) error {
	secs := max(int(e.o.duration/time.Second), 1)
	logf("profiling Vault for %ds under a 16-connection token/shop load", secs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loadRun(ctx, e.client, e.vault.Addr+"/v1/instagram/token/shop", rootToken, 16, 0, time.Duration(secs+1)*time.Second)
	}()
	defer func() { <-done }()
	time.Sleep(500 * time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/sys/pprof/profile?seconds=%d", e.vault.Addr, secs), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("sys/pprof/profile: HTTP %d: %s", resp.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	logf("Vault CPU profile written to %s (go tool pprof -top %s)", path, path)
	return f.Close()
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}
