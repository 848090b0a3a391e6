//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"gopkg.in/yaml.v3"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// The shipped alerting pieces, run for real: Prometheus evaluates
// docs/prometheus/alerts.yml against the plugin's metrics, sends to an
// Alertmanager running docs/alertmanager/alertmanager.yml, whose receivers
// are webhooks into the test. Both files are copied with only their timing
// shortened (testRules, testAlertmanagerConfig); their routes, matchers,
// grouping, inhibition, labels and annotations are what ships.

// alertmanagerBin is the Alertmanager to run: ALERTMANAGER_BIN (make
// test-e2e sets it from scripts/install-prometheus.sh), else Debian's
// prometheus-alertmanager or upstream's alertmanager on PATH. Missing is a
// failure, not a skip: make test-e2e installs it.
func alertmanagerBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ALERTMANAGER_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Alertmanager: set ALERTMANAGER_BIN or run `make test-e2e` (`make prometheus-tools` installs Debian's prometheus-alertmanager package)")
	return ""
}

// perAccountMetricsPath is where the plugin serves per-account series
// (vault_instagram_account_status{account,status}) for a scrape job of their
// own: the plain metrics path names no account (issue 22, finding 1). A
// build that does not serve it answers 404, and InstagramAccountNeedsReauth
// then fires from the count alone (alerts.yml), which the test expects
// instead.
const perAccountMetricsPath = "metrics/accounts"

// shortFor is what every `for:` of the shipped rules becomes in the test's
// copy (testRules).
const shortFor = "3s"

// testRules writes the shipped rules with every `for:` (5 minutes to an
// hour: what an operator wants, and what promtool tests) cut to shortFor,
// so that the test sees in seconds what a rule does. A rule with a `for:`
// still waits for it, so the order of events is kept: InstagramAppProblem
// (for: 5m) still fires after InstagramAppThrottled (none), as it does in
// production, where the inhibition between them matters. Nothing else in
// the rules changes.
func testRules(t *testing.T, root, dir string) string {
	t.Helper()
	var rules map[string]any
	readYAML(t, filepath.Join(root, "docs", "prometheus", "alerts.yml"), &rules)
	shortened := 0
	for _, g := range rules["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			if rule := r.(map[string]any); rule["for"] != nil {
				rule["for"] = shortFor
				shortened++
			}
		}
	}
	if shortened == 0 {
		t.Fatal("alerts.yml: no rule with a for: duration; testRules has nothing to shorten (has the file's shape changed?)")
	}
	return writeYAML(t, filepath.Join(dir, "alerts.yml"), rules)
}

// testAlertmanagerConfig writes the shipped Alertmanager configuration with
// each receiver's webhook URL pointed at receiverURL/<receiver name> and its
// timing shortened: group_wait and group_interval (30 s and 5 min) to a
// second, so that a notification, and its update or resolution, arrives
// within seconds, and repeat_interval to an hour, so that none is repeated
// during the test. Routes, matchers, grouping and inhibition are the
// shipped ones.
func testAlertmanagerConfig(t *testing.T, root, dir, receiverURL string) string {
	t.Helper()
	var config map[string]any
	readYAML(t, filepath.Join(root, "docs", "alertmanager", "alertmanager.yml"), &config)
	var shorten func(route map[string]any)
	shorten = func(route map[string]any) {
		for key, d := range map[string]string{"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"} {
			if _, ok := route[key]; ok {
				route[key] = d
			}
		}
		if children, ok := route["routes"].([]any); ok {
			for _, c := range children {
				shorten(c.(map[string]any))
			}
		}
	}
	shorten(config["route"].(map[string]any))
	for _, r := range config["receivers"].([]any) {
		receiver := r.(map[string]any)
		hooks, ok := receiver["webhook_configs"].([]any)
		if !ok || len(hooks) != 1 {
			t.Fatalf("alertmanager.yml: receiver %v has not one webhook; the test replaces its URL", receiver["name"])
		}
		hooks[0].(map[string]any)["url"] = receiverURL + "/" + receiver["name"].(string)
	}
	return writeYAML(t, filepath.Join(dir, "alertmanager.yml"), config)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeYAML(t *testing.T, path string, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// amServer is a real Alertmanager.
type amServer struct {
	t    *testing.T
	addr string // http://127.0.0.1:PORT
	log  string
	proc *vaultproc.Process
}

// startAlertmanager runs an Alertmanager with the configuration file given,
// alone (no cluster: it would listen on the fixed port 9094) on a free port.
func startAlertmanager(t *testing.T, configFile string) *amServer {
	t.Helper()
	dir := t.TempDir()
	port, err := vaultproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	am := &amServer{t: t, addr: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(dir, "alertmanager.log")}
	logFile, err := os.Create(am.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(alertmanagerBin(t),
		"--config.file="+configFile,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	cmd.Env = vaultproc.Environ()
	if am.proc, err = vaultproc.Start(cmd, logFile); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { am.proc.Stop(10 * time.Second) })
	waitUntil(t, "Alertmanager is ready", 60*time.Second, am.proc, am.log, func() (bool, string) {
		resp, err := http.Get(am.addr + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return am
}

// amAlert is an alert as Alertmanager's API answers it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// alerts is every alert Alertmanager holds (GET /api/v2/alerts: active,
// silenced and inhibited).
func (am *amServer) alerts() ([]amAlert, error) {
	resp, err := http.Get(am.addr + "/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []amAlert
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts: %s", resp.Status)
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// waitUntil polls cond every 250 ms until it holds, and fails the test with
// cond's last word and the tail of log once deadline has passed or proc
// has exited.
func waitUntil(t *testing.T, what string, deadline time.Duration, proc *vaultproc.Process, log string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s (last: %s)\n--- %s ---\n%s", what, deadline, last, log, vaultproc.Tail(log, 30))
		}
		select {
		case <-tick.C:
		case <-proc.Exited():
			t.Fatalf("%s: the process exited (%v)\n--- %s ---\n%s", what, proc.Err(), log, vaultproc.Tail(log, 30))
		}
	}
}

// notification is what Alertmanager's webhook receiver POSTs (version 4).
type notification struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	GroupKey          string            `json:"groupKey"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	Alerts            []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`

	path string // the URL path it came to: /<receiver>
	body string
}

// receiver is the webhook every receiver of the test's Alertmanager posts
// to, at /<receiver name>; it keeps what arrives.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []notification
	errs []string
}

func startReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var n notification
		if err == nil {
			err = json.Unmarshal(body, &n)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil || req.Method != http.MethodPost {
			r.errs = append(r.errs, fmt.Sprintf("%s %s: %v: %.200s", req.Method, req.URL.Path, err, body))
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		n.path, n.body = req.URL.Path, string(body)
		r.got = append(r.got, n)
	}))
	t.Cleanup(r.Close)
	return r
}

// notifications is what has arrived so far, in order.
func (r *receiver) notifications() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notification(nil), r.got...)
}

// of is the notifications so far about alertname, wherever they went.
func (r *receiver) of(alertname string) []notification {
	var out []notification
	for _, n := range r.notifications() {
		if n.GroupLabels["alertname"] == alertname {
			out = append(out, n)
		}
	}
	return out
}

// summary describes notifications for a failure message.
func summary(ns []notification) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "\n  %s %s %s:", n.path, n.Status, n.GroupLabels["alertname"])
		for _, a := range n.Alerts {
			fmt.Fprintf(&b, " [%s %v %q]", a.Status, a.Labels, a.Annotations["summary"])
		}
	}
	return b.String()
}

// alertScrapeToken is a token that reads perAccountMetricsPath and nothing
// else, as an operator would give the per-account scrape job.
func (e *env) alertScrapeToken(dir string) string {
	e.t.Helper()
	policy := fmt.Sprintf("path %q {\n  capabilities = [\"read\"]\n}\n", mountPath+"/"+perAccountMetricsPath)
	if err := e.root.Sys().PutPolicy("instagram-metrics-accounts-e2e", policy); err != nil {
		e.fatalf("write the per-account metrics policy: %v", err)
	}
	created, err := e.root.Auth().Token().Create(&api.TokenCreateRequest{
		Policies: []string{"instagram-metrics-accounts-e2e"}, NoDefaultPolicy: true, TTL: "15m",
	})
	if err != nil {
		e.fatalf("create the per-account scrape token: %v", err)
	}
	return writeTokenFile(e, dir, "per-account", created.Auth.ClientToken)
}

func writeTokenFile(e *env, dir, name, token string) string {
	e.t.Helper()
	e.secrets.Add("Prometheus' Vault token ("+name+")", token)
	path := filepath.Join(dir, name+"-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// servesPerAccountMetrics checks that this build serves
// perAccountMetricsPath (its answer always has the omitted count, and the
// per-account series once accounts exist), and reports so; anything else
// fails the test.
func (e *env) servesPerAccountMetrics() bool {
	e.t.Helper()
	code, body := e.rawRead(e.root, mountPath+"/"+perAccountMetricsPath)
	if code == http.StatusOK && strings.Contains(body, "vault_instagram_account_series_omitted") {
		return true
	}
	e.fatalf("GET %s/%s: HTTP %d %.300s; want the per-account series", mountPath, perAccountMetricsPath, code, body)
	return false
}

// registerWithOwner registers name as registerNotDue does and returns its
// owner at the fake Meta, for a re-authorization later.
func (e *env) registerWithOwner(name string) (owner string, token string) {
	e.t.Helper()
	token = e.registerNotDue(name)
	return e.users[len(e.users)-1].UserID, token
}

// reauthorize registers a fresh long-lived token of owner for name, as the
// owner authorizing again does.
func (e *env) reauthorize(name, owner string) {
	e.t.Helper()
	for _, u := range e.users {
		if u.UserID == owner {
			issued := time.Now().Truncate(time.Second)
			if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
				"access_token": e.mintLongLived(u, issued, basicScopes...),
				"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
			}); err != nil {
				e.fatalf("re-authorize %s: %v", name, err)
			}
			return
		}
	}
	e.t.Fatalf("no owner %s", owner)
}

// TestAlertsReachAPerson runs the shipped alert rules in a real Prometheus
// scraping the plugin through Vault, sending to a real Alertmanager with
// the shipped example configuration, whose receivers are webhooks into the
// test, and proves what docs/monitoring.md ("Alertmanager") says:
//
//   - two accounts' tokens die: InstagramAccountNeedsReauth pages
//     (instagram-page, critical) in one notification group, with the
//     labels and annotations a person acts on: the account (where
//     per-account series are scraped; else the count and the command that
//     lists them, which answers those two accounts), status, severity, what
//     to do, and a runbook link;
//   - both owners authorize again: the alert resolves, and the receiver is
//     told;
//   - Meta reports the app deactivated: InstagramAppThrottled (warning)
//     goes to instagram-tickets at once, InstagramAppProblem (critical,
//     kind=deactivated) pages once its for: has passed, and from then on
//     Alertmanager holds the throttle warning back (inhibited by the app
//     problem);
//   - no notification carries a secret.
func TestAlertsReachAPerson(t *testing.T) {
	t.Parallel()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	dir := t.TempDir()
	perAccount := e.servesPerAccountMetrics()
	if perAccount {
		t.Logf("%s is served: InstagramAccountNeedsReauth is expected per account, labelled with it", perAccountMetricsPath)
	} else {
		t.Logf("%s is not served by this build (404): InstagramAccountNeedsReauth is expected once, from the count, without an account label", perAccountMetricsPath)
	}

	shopOwner, shopToken := e.registerWithOwner("shop")
	cafeOwner, cafeToken := e.registerWithOwner("cafe")
	e.registerNotDue("bakery")

	hook := startReceiver(t)
	am := startAlertmanager(t, testAlertmanagerConfig(t, root, dir, hook.URL))
	amURL, _ := url.Parse(am.addr)
	metricsToken := e.clientWithPolicyFile("instagram-metrics", false).Token()
	prom := startPrometheusWith(t, e, promConfig{
		ruleFile:     testRules(t, root, dir),
		alertmanager: amURL.Host,
		jobs: []promJob{
			{name: "vault-instagram", path: "/v1/" + mountPath + "/metrics", tokenFile: writeTokenFile(e, dir, "metrics", metricsToken)},
			{name: "vault-instagram-accounts", path: "/v1/" + mountPath + "/" + perAccountMetricsPath, tokenFile: e.alertScrapeToken(dir)},
		},
	})
	prom.waitForAccounts("the three accounts are scraped", map[string]float64{"valid": 3, "needs_reauth": 0})
	wait := func(what string, cond func() (bool, string)) {
		t.Helper()
		waitUntil(t, what, 30*time.Second, am.proc, am.log, cond)
	}

	// Two tokens die at Meta; a refresh of each finds out.
	start := time.Now()
	for name, token := range map[string]string{"shop": shopToken, "cafe": cafeToken} {
		e.fake.Revoke(token)
		if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name+"/refresh", nil); vaultproc.StatusOf(err) != http.StatusBadRequest {
			e.fatalf("refreshing %s's revoked token: %v, want a 400", name, err)
		}
	}
	// The command the annotation gives lists exactly them.
	listed, err := e.root.Logical().ReadWithData(mountPath+"/accounts", map[string][]string{"list": {"true"}, "status": {"needs_reauth"}})
	if err != nil || listed == nil || fmt.Sprint(listed.Data["keys"]) != "[cafe shop]" {
		e.fatalf("LIST accounts/ status=needs_reauth: %v, %v; want [cafe shop]", listed, err)
	}

	// The page: every NeedsReauth notification in one group, to
	// instagram-page, and eventually one naming everything there is.
	const reauth = "InstagramAccountNeedsReauth"
	wait(reauth+" pages with what a person needs", func() (bool, string) {
		ns := hook.of(reauth)
		for _, n := range ns {
			if n.path != "/instagram-page" || n.GroupKey != ns[0].GroupKey || n.GroupLabels["account"] != "" {
				t.Fatalf("%s notifications not in one group on /instagram-page:%s", reauth, summary(ns))
			}
		}
		if len(ns) == 0 {
			return false, "no notification"
		}
		last := ns[len(ns)-1]
		if last.Status != "firing" {
			return false, summary(ns)
		}
		accounts := map[string]bool{}
		for _, a := range last.Alerts {
			l, an := a.Labels, a.Annotations
			if l["severity"] != "critical" || l["status"] != "needs_reauth" || l["job"] == "" || l["instance"] == "" ||
				an["runbook"] != "docs/monitoring.md#instagramaccountneedsreauth" ||
				!strings.HasPrefix(an["runbook_url"], "https://") || !strings.HasSuffix(an["runbook_url"], "/docs/monitoring.md#instagramaccountneedsreauth") {
				t.Fatalf("%s alert without the labels and runbook a person needs: %v %v", reauth, l, an)
			}
			if perAccount {
				name := l["account"]
				if an["summary"] != "Instagram account "+name+" needs its owner to authorize again" ||
					!strings.Contains(an["description"], "auth-url account="+name+" replace=true") {
					t.Fatalf("%s alert for %q: %v", reauth, name, an)
				}
				accounts[name] = true
			} else {
				if l["account"] != "" || !strings.HasSuffix(an["summary"], " Instagram account(s) need their owner to authorize again") ||
					!strings.Contains(an["description"], "vault read instagram/accounts list=true status=needs_reauth") {
					t.Fatalf("%s alert from the count: %v %v", reauth, l, an)
				}
				accounts["(count)"] = true
			}
		}
		if perAccount {
			return accounts["shop"] && accounts["cafe"] && len(accounts) == 2, summary(ns)
		}
		return len(last.Alerts) == 1, summary(ns)
	})
	t.Logf("%s paged %s after the tokens died", reauth, time.Since(start).Round(100*time.Millisecond))

	// Both owners authorize again: the alert resolves.
	start = time.Now()
	e.reauthorize("shop", shopOwner)
	e.reauthorize("cafe", cafeOwner)
	wait(reauth+" resolves", func() (bool, string) {
		ns := hook.of(reauth)
		last := ns[len(ns)-1]
		if last.Status != "resolved" || last.path != "/instagram-page" || last.GroupKey != ns[0].GroupKey {
			return false, summary(ns)
		}
		for _, a := range last.Alerts {
			if a.Status != "resolved" {
				return false, summary(ns)
			}
		}
		return true, ""
	})
	t.Logf("%s resolved %s after the re-authorizations", reauth, time.Since(start).Round(100*time.Millisecond))

	// Meta reports the app deactivated; the next call to Meta finds out.
	const throttled, problem = "InstagramAppThrottled", "InstagramAppProblem"
	start = time.Now()
	e.fake.SetAppProblem(graph.AppDeactivated)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/bakery/refresh", nil); err == nil {
		e.fatalf("a refresh with the app deactivated succeeded")
	}
	wait(throttled+" goes to tickets, "+problem+" pages", func() (bool, string) {
		ts, ps := hook.of(throttled), hook.of(problem)
		for _, n := range ts {
			if n.path != "/instagram-tickets" || n.Alerts[0].Labels["severity"] != "warning" {
				t.Fatalf("%s not a warning on /instagram-tickets:%s", throttled, summary(ts))
			}
		}
		for _, n := range ps {
			a := n.Alerts[0]
			if n.path != "/instagram-page" || len(n.Alerts) != 1 || a.Labels["severity"] != "critical" || a.Labels["kind"] != "deactivated" ||
				a.Annotations["summary"] != "Meta reports the app deactivated" ||
				!strings.HasSuffix(a.Annotations["runbook_url"], "/docs/monitoring.md#instagramappproblem") {
				t.Fatalf("%s not as a person needs it on /instagram-page:%s %v", problem, summary(ps), a.Annotations)
			}
		}
		return len(ts) > 0 && len(ps) > 0, summary(append(ts, ps...))
	})
	t.Logf("%s and %s arrived %s after the app problem", throttled, problem, time.Since(start).Round(100*time.Millisecond))
	// The warning came first, alone: the app problem's for: had not passed
	// yet, so nothing inhibited it (a short app problem is only a ticket).
	for _, n := range hook.notifications() {
		if name := n.GroupLabels["alertname"]; name == problem {
			t.Errorf("%s paged before %s reached the tickets:%s", problem, throttled, summary(hook.notifications()))
		} else if name == throttled {
			break
		}
	}
	wait(problem+" inhibits "+throttled, func() (bool, string) {
		alerts, err := am.alerts()
		if err != nil {
			return false, err.Error()
		}
		fingerprint := map[string]string{}
		for _, a := range alerts {
			fingerprint[a.Labels["alertname"]] = a.Fingerprint
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == throttled {
				return a.Status.State == "suppressed" && len(a.Status.InhibitedBy) == 1 && a.Status.InhibitedBy[0] == fingerprint[problem],
					fmt.Sprintf("%s: %+v (%s is %s)", throttled, a.Status, problem, fingerprint[problem])
			}
		}
		return false, fmt.Sprintf("%s not in Alertmanager: %v", throttled, alerts)
	})

	// Nothing else reached anyone, and no notification carries a secret.
	all := hook.notifications()
	for _, n := range all {
		switch n.GroupLabels["alertname"] {
		case reauth, throttled, problem, "InstagramMetricsAbsent": // absent for a moment before the first scrape
		default:
			t.Errorf("unexpected notification:%s", summary([]notification{n}))
		}
		for secret, label := range e.secrets.Snapshot() {
			if strings.Contains(n.body, secret) {
				t.Errorf("a notification to %s carries %s", n.path, label)
			}
		}
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, bad := range hook.errs {
		t.Errorf("the receiver got a request it could not read: %s", bad)
	}
}
