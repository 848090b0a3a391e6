//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// promServer is a real Prometheus server (Debian's prometheus package, as
// `make prometheus-tools` installs it) scraping the plugin.
type promServer struct {
	t    *testing.T
	addr string // http://127.0.0.1:PORT
	log  string
	proc *vaultproc.Process
}

// prometheusBin is the server to run: PROMETHEUS_BIN (make test-e2e sets
// it), else prometheus on PATH. Missing is a failure, not a skip: make
// test-e2e installs it.
func prometheusBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("no Prometheus server: set PROMETHEUS_BIN or run `make test-e2e` (`make prometheus-tools` installs Debian's prometheus package)")
	}
	return p
}

// promJob is one scrape job of e's Vault: a path (of the mount, to
// startPrometheus; from /v1/ on, to startPrometheusWith), with the token in
// tokenFile.
type promJob struct {
	name, path, tokenFile string
}

// startPrometheus runs a Prometheus server that scrapes the plugin's
// metrics path on e's Vault every second with the token in tokenFile as its
// bearer credential (job vault-instagram), and any further jobs, and loads
// the shipped alert rules.
func startPrometheus(t *testing.T, e *env, tokenFile string, more ...promJob) *promServer {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	jobs := []promJob{{name: "vault-instagram", path: "/v1/" + mountPath + "/metrics", tokenFile: tokenFile}}
	for _, j := range more {
		j.path = "/v1/" + mountPath + "/" + j.path
		jobs = append(jobs, j)
	}
	return startPrometheusWith(t, e, promConfig{
		ruleFile: filepath.Join(root, "docs", "prometheus", "alerts.yml"),
		jobs:     jobs,
	})
}

// promConfig is what a test's Prometheus server does: scrape jobs, a rule
// file, and an Alertmanager to send alerts to (host:port; none if empty).
type promConfig struct {
	jobs         []promJob
	ruleFile     string
	alertmanager string
}

// startPrometheusWith runs a Prometheus server with c, scraping and
// evaluating every second.
func startPrometheusWith(t *testing.T, e *env, c promConfig) *promServer {
	t.Helper()
	dir := t.TempDir()
	vaultURL, err := url.Parse(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
`, c.ruleFile)
	for _, j := range c.jobs {
		config += fmt.Sprintf(`  - job_name: %s
    metrics_path: %s
    scheme: http
    authorization:
      credentials_file: %q
    static_configs:
      - targets: [%q]
`, j.name, j.path, j.tokenFile, vaultURL.Host)
	}
	if c.alertmanager != "" {
		config += fmt.Sprintf(`alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
`, c.alertmanager)
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := vaultproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := &promServer{t: t, addr: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(dir, "prometheus.log")}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prometheusBin(t),
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn",
		// A firing alert is sent again this often (default 1m): an
		// Alertmanager started after Prometheus hears of it at once.
		"--rules.alert.resend-delay=1s",
	)
	cmd.Env = vaultproc.Environ()
	if p.proc, err = vaultproc.Start(cmd, logFile); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { p.proc.Stop(10 * time.Second) })
	p.eventually("the server is ready", 60*time.Second, func() (bool, string) {
		resp, err := http.Get(p.addr + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return p
}

// eventually polls cond until it holds, and fails the test with cond's last
// word and the server's log once deadline has passed.
func (p *promServer) eventually(what string, deadline time.Duration, cond func() (bool, string)) {
	p.t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			p.t.Fatalf("Prometheus: %s: not within %s (last: %s)\n--- %s ---\n%s", what, deadline, last, p.log, vaultproc.Tail(p.log, 30))
		}
		select {
		case <-tick.C:
		case <-p.proc.Exited():
			p.t.Fatalf("Prometheus exited (%v)\n--- %s ---\n%s", p.proc.Err(), p.log, vaultproc.Tail(p.log, 30))
		}
	}
}

// promSample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) value() float64 {
	v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return v
}

// query runs an instant query through Prometheus' HTTP API.
func (p *promServer) query(q string) ([]promSample, error) {
	resp, err := http.Get(p.addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, err
	}
	if answer.Status != "success" || answer.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: %s %s (%s)", q, answer.Status, answer.Error, answer.Data.ResultType)
	}
	return answer.Data.Result, nil
}

// accountsByStatus is vault_instagram_accounts as Prometheus last scraped it.
func (p *promServer) accountsByStatus() (map[string]float64, error) {
	samples, err := p.query(`vault_instagram_accounts{job="vault-instagram"}`)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range samples {
		out[s.Metric["status"]] = s.value()
	}
	return out, nil
}

// waitForAccounts polls Prometheus until vault_instagram_accounts reports
// want for each status in it.
func (p *promServer) waitForAccounts(what string, want map[string]float64) {
	p.t.Helper()
	p.eventually(what, 60*time.Second, func() (bool, string) {
		got, err := p.accountsByStatus()
		if err != nil {
			return false, err.Error()
		}
		for status, n := range want {
			if v, ok := got[status]; !ok || v != n {
				return false, fmt.Sprintf("vault_instagram_accounts = %v", got)
			}
		}
		return true, ""
	})
}

// TestPrometheusScrapesThePlugin: a real Prometheus server scrapes
// /v1/instagram/metrics on the dev Vault with a token whose policy allows
// only instagram/metrics (docs/policies/instagram-metrics.hcl), and its
// query API shows vault_instagram_accounts right after a registration and
// after the account is made needs_reauth; the shipped alert rules load,
// and InstagramAccountNeedsReauth fires. That token learns no account name:
// accounts=true is refused, metrics/accounts is a 403, and nothing
// Prometheus stores from it carries an account label. A second job, with
// the token of docs/policies/instagram-metrics-accounts.hcl, scrapes
// metrics/accounts and shows the account needs_reauth by name.
func TestPrometheusScrapesThePlugin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// The scrape token: the metrics policy only, not even "default".
	scraper := e.clientWithPolicyFile("instagram-metrics", false)
	token := e.secrets.Add("Prometheus' Vault token", scraper.Token())
	tokenFile := filepath.Join(t.TempDir(), "vault-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// It can scrape and nothing else.
	if err := scrapeMetrics(scraper); err != nil {
		t.Fatalf("the metrics token cannot scrape: %v", err)
	}
	if _, err := scraper.Logical().Read(mountPath + "/status"); vaultproc.StatusOf(err) != http.StatusForbidden {
		t.Fatalf("the metrics token reads status: %v", err)
	}
	if _, err := scraper.Logical().Read(mountPath + "/metrics/accounts"); vaultproc.StatusOf(err) != http.StatusForbidden {
		t.Fatalf("the metrics token reads metrics/accounts: %v", err)
	}
	// The per-account series, deliberately granted to a job of their own.
	accountsScraper := e.clientWithPolicyFile("instagram-metrics-accounts", false)
	accountsToken := e.secrets.Add("Prometheus' Vault token for metrics/accounts", accountsScraper.Token())
	accountsTokenFile := filepath.Join(t.TempDir(), "vault-accounts-token")
	if err := os.WriteFile(accountsTokenFile, []byte(accountsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := accountsScraper.Logical().Read(mountPath + "/status"); vaultproc.StatusOf(err) != http.StatusForbidden {
		t.Fatalf("the metrics/accounts token reads status: %v", err)
	}

	prom := startPrometheus(t, e, tokenFile, promJob{"vault-instagram-accounts", "metrics/accounts", accountsTokenFile})
	prom.eventually("the target is up", 60*time.Second, func() (bool, string) {
		up, err := prom.query(`up{job="vault-instagram"}`)
		if err != nil || len(up) != 1 {
			return false, fmt.Sprint(up, err)
		}
		return up[0].value() == 1, fmt.Sprintf("up = %v", up[0].value())
	})
	prom.waitForAccounts("no accounts yet", map[string]float64{"valid": 0, "needs_reauth": 0, "refresh_failing": 0, "expiring": 0})

	// A registration.
	shopToken := e.registerNotDue("shop")
	prom.waitForAccounts("after registering shop", map[string]float64{"valid": 1, "needs_reauth": 0})

	// The token is revoked at Meta; the next refresh finds out.
	e.fake.Revoke(shopToken)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/shop/refresh", nil); vaultproc.StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("refreshing a revoked token: %v, want a 400", err)
	}
	if s, err := e.root.Logical().Read(mountPath + "/accounts/shop"); err != nil || s.Data["status"] != "needs_reauth" {
		t.Fatalf("accounts/shop after the refresh: %v, %v", s, err)
	}
	prom.waitForAccounts("after shop became needs_reauth", map[string]float64{"valid": 0, "needs_reauth": 1})

	// The metrics token names no account, by any parameter.
	if _, err := scraper.Logical().ReadWithData(mountPath+"/metrics", map[string][]string{"accounts": {"true"}}); vaultproc.StatusOf(err) != http.StatusBadRequest ||
		strings.Contains(fmt.Sprint(err), "shop") {
		t.Fatalf("the metrics token's accounts=true: %v, want a 400 naming no account", err)
	}
	if named, err := prom.query(`{job="vault-instagram",account!=""}`); err != nil || len(named) != 0 {
		t.Fatalf("series with an account label from the metrics job: %v, %v", named, err)
	}
	// The accounts job shows shop by name.
	prom.eventually("metrics/accounts shows shop needs_reauth", 60*time.Second, func() (bool, string) {
		s, err := prom.query(`vault_instagram_account_status{job="vault-instagram-accounts",account="shop",status="needs_reauth"}`)
		if err != nil {
			return false, err.Error()
		}
		return len(s) == 1 && s[0].value() == 1, fmt.Sprint(s)
	})

	// The shipped rules run in the real server too.
	prom.eventually("InstagramAccountNeedsReauth fires", 60*time.Second, func() (bool, string) {
		alerts, err := prom.query(`ALERTS{alertname="InstagramAccountNeedsReauth",alertstate="firing"}`)
		if err != nil {
			return false, err.Error()
		}
		return len(alerts) == 1 && alerts[0].Metric["severity"] == "critical", fmt.Sprint(alerts)
	})
	if quiet, err := prom.query(`ALERTS{alertname=~"InstagramEngineStalled|InstagramMetricsAbsent"}`); err != nil || len(quiet) != 0 {
		t.Fatalf("alerts that should be quiet: %v, %v", quiet, err)
	}
}
