//go:build ha

package ha

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

const (
	// Instagram's long-lived tokens live 60 days.
	longLivedTTL = 60 * 24 * time.Hour
	// dueAccounts is how many accounts each refresh scenario registers.
	dueAccounts = 30
	// passBeforeLoss is how many of the second batch's refreshes are
	// answered and stored before the active node is killed.
	passBeforeLoss = 10
	// answersLostInLoss is how many refreshes after those Meta answers,
	// minting new tokens, while their answers are held until the node is
	// killed. With the default refresh_concurrency of 4, the other two
	// workers wait at Meta's door.
	answersLostInLoss = 2
	// Vault calls a mount's periodic function once a minute on the active
	// node (its rollback manager's period, not configurable in a release
	// build); a refresh due at registration happens within two such ticks.
	periodicWait = 150 * time.Second
)

var basicScopes = []string{"instagram_business_basic"}

// world is the test's cluster, fake Meta and bookkeeping. The steps of
// TestHACluster run in order on one cluster: each builds on the last.
type world struct {
	t           *testing.T
	c           *cluster
	meta        *fakeMeta
	secrets     *vaultproc.Secrets
	appID       string
	redirectURI string
	// names lists the registered accounts in registration order; accounts
	// says who owns each and how many refreshes Meta should have seen.
	names    []string
	accounts map[string]*account
}

type account struct {
	user           graphtest.User
	wantRefreshes  int
	registeredWith string // the token it was registered with, if any
}

// TestHACluster runs the engine on a three-node Raft cluster through the
// loss of its active node.
func TestHACluster(t *testing.T) {
	start := time.Now()
	w := newWorld(t, "ha", 3)
	t.Logf("cluster ready in %s", time.Since(start).Round(time.Second))
	w.step("StandbyWritesAreForwardedOnce", w.standbyWritesAreForwardedOnce)
	w.step("EveryNodeServesTheSameToken", w.everyNodeServesTheSameToken)
	w.step("OnlyTheActiveNodeRefreshes", w.onlyTheActiveNodeRefreshes)
	w.step("ActiveNodeLostWhileRefreshesAreDue", w.activeNodeLostWhileRefreshesAreDue)
	w.step("KilledNodeRejoinsAndServesCurrentTokens", w.killedNodeRejoins)
	w.step("EveryRefreshAccountedForAndHealthy", w.everyRefreshAccountedFor)
}

// newWorld starts a cluster of size nodes and a fake Meta; name prefixes
// the nodes' log files.
func newWorld(t *testing.T, name string, size int) *world {
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	return newWorldWith(t, name, size, p)
}

// newWorldWith is newWorld with another build of the plugin.
func newWorldWith(t *testing.T, name string, size int, p vaultproc.Build) *world {
	w := &world{t: t, secrets: &vaultproc.Secrets{}, appID: "ha-app-" + vaultproc.RandHex(4), accounts: map[string]*account{}}
	appSecret := w.secrets.Add("app secret", "ha-secret-"+vaultproc.RandHex(16))
	w.meta = newFakeMeta(w.appID, appSecret)
	t.Cleanup(w.meta.Close)
	w.c = startClusterWith(t, name, size, p)
	// After every node has stopped, their logs are complete: scan them.
	t.Cleanup(func() {
		w.c.stopAll()
		w.checkLogsForSecrets()
	})
	return w
}

// step runs one scenario as a subtest; the later ones need it to have
// passed, so a failure ends the test.
func (w *world) step(name string, fn func()) {
	parent := w.t
	ok := parent.Run(name, func(t *testing.T) {
		w.t, w.c.t = t, t
		defer func() { w.t, w.c.t = parent, parent }()
		start := time.Now()
		fn()
		t.Logf("%s took %s", name, time.Since(start).Round(time.Second))
	})
	if !ok {
		parent.FailNow()
	}
}

// --- the scenarios ---

// standbyWritesAreForwardedOnce sends every kind of write to standbys:
// config, a registration from an authorization code, a manual refresh, and
// the authorization flow (auth-url on one standby, Meta's redirect to the
// callback on the other). The clients do not follow redirects, so each
// write was forwarded by the standby to the active node, and Meta's call
// counters show each took effect once.
func (w *world) standbyWritesAreForwardedOnce() {
	t, c := w.t, w.c
	active := c.active(30 * time.Second)
	sb := c.standbys(active)
	if len(sb) != 2 {
		c.fatalf("want 2 standbys, have %d: %s", len(sb), c.describe())
	}

	// The callback is reached through a standby too, as behind a load
	// balancer that picks any node.
	w.configure(sb[0], sb[1].addr+"/v1/"+mountPath+"/callback")
	for _, n := range c.running() {
		s, err := n.client.Logical().Read(mountPath + "/config")
		if err != nil || s == nil {
			c.fatalf("read config through %s: %v", n.name, err)
		}
		if s.Data["app_id"] != w.appID || s.Data["app_secret_set"] != true || s.Data["redirect_uri"] != w.redirectURI {
			t.Errorf("config read through %s = %v", n.name, s.Data)
		}
	}

	// A registration from an authorization code, through a standby: one
	// code exchange and one long-lived exchange at Meta.
	before := w.meta.AllCalls()
	u := w.addAccount("coded", 0)
	code := w.secrets.Add("authorization code for coded", w.meta.MintCode(u.UserID, basicScopes, w.redirectURI))
	if _, err := sb[1].client.Logical().Write(mountPath+"/accounts/coded", map[string]any{"code": code}); err != nil {
		c.fatalf("register coded through standby %s: %v", sb[1].name, err)
	}
	w.assertCallDeltas(before, map[string]int{
		graphtest.EndpointExchangeCode: 1, graphtest.EndpointIGExchangeToken: 1, graphtest.EndpointRefresh: 0,
	})
	w.assertTokenEverywhere("coded")

	// A manual refresh through a standby: one refresh at Meta. The token
	// is two days old, so not due (the periodic function leaves it alone)
	// but old enough for Instagram to refresh.
	issued := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	w.registerLongLived(sb[0], "manual", 1, issued)
	before = w.meta.AllCalls()
	if _, err := sb[1].client.Logical().Write(mountPath+"/accounts/manual/refresh", nil); err != nil {
		c.fatalf("refresh manual through standby %s: %v", sb[1].name, err)
	}
	w.assertCallDeltas(before, map[string]int{graphtest.EndpointRefresh: 1})
	if w.tokenOn(active, "manual") == w.accounts["manual"].registeredWith {
		t.Error("token/manual still serves the registered token after a manual refresh")
	}
	w.assertTokenEverywhere("manual")
	// Again through the other standby: the new token is minutes old, so
	// the engine refuses (400) without asking Meta.
	before = w.meta.AllCalls()
	_, err := sb[0].client.Logical().Write(mountPath+"/accounts/manual/refresh", nil)
	if vaultproc.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("second manual refresh within 24 h through %s: %v, want a 400", sb[0].name, err)
	}
	w.assertCallDeltas(before, map[string]int{graphtest.EndpointRefresh: 0})

	// The authorization flow across nodes: auth-url through one standby
	// stores the state; Meta's redirect lands on the other standby's
	// callback (unauthenticated), which registers the account.
	u = w.addAccount("oauthed", 0)
	s, err := sb[0].client.Logical().Write(mountPath+"/auth-url", map[string]any{"account": "oauthed"})
	if err != nil || s == nil {
		c.fatalf("auth-url through standby %s: %v", sb[0].name, err)
	}
	authURL, _ := s.Data["url"].(string)
	state, _ := s.Data["state"].(string)
	w.secrets.Add("authorization state", state)
	before = w.meta.AllCalls()
	page := w.followAuthorization(authURL, u.Username)
	if !strings.Contains(strings.ToLower(page), "oauthed") {
		t.Errorf("callback page does not name the account: %q", page)
	}
	w.assertCallDeltas(before, map[string]int{graphtest.EndpointExchangeCode: 1, graphtest.EndpointIGExchangeToken: 1})
	w.assertTokenEverywhere("oauthed")
}

// everyNodeServesTheSameToken reads every account's token on every node.
func (w *world) everyNodeServesTheSameToken() {
	for _, name := range w.names {
		w.assertTokenEverywhere(name)
	}
}

// onlyTheActiveNodeRefreshes registers many due accounts, through every
// node, and waits for Vault's periodic function: Meta must see exactly one
// refresh per account, not one per node.
func (w *world) onlyTheActiveNodeRefreshes() {
	t, c := w.t, w.c
	activeBefore := c.active(30 * time.Second)
	batch := w.registerDueBatch("a", dueAccounts)
	registered := time.Now()
	c.waitFor(periodicWait, fmt.Sprintf("the %d due accounts to be refreshed", len(batch)), func() (bool, string) {
		done := w.refreshedOnce(batch)
		return len(done) == len(batch), fmt.Sprintf("%d of %d refreshed at Meta", len(done), len(batch))
	})
	t.Logf("the periodic function refreshed %d accounts %s after their registration", len(batch), time.Since(registered).Round(time.Second))
	w.waitForCurrentTokens(batch, 30*time.Second)
	w.assertRefreshCounts(batch)

	// The standbys run no refresh work: their logs have no refresh. (Vault
	// OSS runs no plugin backend on a standby at all; it forwards.) A node
	// that was active at either end of the wait may have done the work.
	active := c.active(30 * time.Second)
	for _, n := range c.nodes {
		got := countLines(n.logPath, pluginName, "token refreshed", "account=a")
		wasActive := n == active || n == activeBefore
		t.Logf("%s (%s) logged %d refreshes of this batch", n.name, map[bool]string{true: "active", false: "standby"}[wasActive], got)
		if !wasActive && got != 0 {
			t.Errorf("standby %s logged %d refreshes; only the active node may refresh", n.name, got)
		}
	}
	st := w.status(active)
	t.Logf("status on %s: periodic_runs=%v last_run_refreshed=%v refreshes_succeeded=%v accounts_total=%v",
		active.name, st["periodic_runs"], st["last_run_refreshed"], st["refreshes_succeeded"], st["accounts_total"])
}

// activeNodeLostWhileRefreshesAreDue registers a second batch of due
// accounts and kills the active node (SIGKILL) in the middle of refreshing
// it: the first passBeforeLoss of its refreshes have been answered and
// stored, Meta has answered the next answersLostInLoss but those answers
// are held on their way back (Meta minted tokens the cluster never learns
// of), and the others wait at Meta's door. A new leader is elected; its
// plugin instance has built the schedule from storage (InitializeFunc)
// before its first periodic run. Every account must then hold either the
// newest token Meta issued for it or, where the answer was lost, the token
// it had, which Meta still accepts; the new leader refreshes every account
// still due, the lost-answer ones included, and none stored before the
// loss again.
func (w *world) activeNodeLostWhileRefreshesAreDue() {
	t, c := w.t, w.c
	w.meta.holdRefreshesAfter(passBeforeLoss, answersLostInLoss)
	batch := w.registerDueBatch("b", dueAccounts)
	// Those refreshes are stored (and so replicated) before the loss.
	passed := w.waitForHeldRun(batch, passBeforeLoss, answersLostInLoss)

	// The node to kill is the one active now: its periodic run is the one
	// whose refreshes wait.
	old := c.active(30 * time.Second)
	killedAt := time.Now()
	lostAnswers := w.killMidRefresh(old, batch, answersLostInLoss)
	t.Logf("%d of %d accounts of the batch were refreshed before", len(passed), len(batch))

	leader := c.active(60 * time.Second)
	t.Logf("%s became active %s after the loss", leader.name, time.Since(killedAt).Round(100*time.Millisecond))
	w.assertLostAnswersKeptValidTokens(leader, lostAnswers)

	// InitializeFunc ran on the new active node: before its first periodic
	// run (which waits for the rebuild), its schedule holds every account
	// from storage, the earliest due in the past.
	// InitializeFunc starts the rebuild in the background (the mount serves
	// requests meanwhile): wait for it to have read every account.
	var st map[string]any
	c.waitFor(30*time.Second, "the new active node's schedule to be rebuilt from storage", func() (bool, string) {
		st = w.status(leader)
		got := toInt64(st["accounts_total"])
		return got == int64(len(w.names)), fmt.Sprintf("accounts_total %d of %d", got, len(w.names))
	})
	t.Logf("status on %s before its first periodic run: accounts_total=%v next_refresh_at=%v periodic_runs=%v started_at=%v",
		leader.name, st["accounts_total"], st["next_refresh_at"], st["periodic_runs"], st["started_at"])
	if runs := toInt64(st["periodic_runs"]); runs == 0 {
		if got := toInt64(st["accounts_total"]); got != int64(len(w.names)) {
			t.Errorf("the new active node's schedule holds %d accounts before its first periodic run, want %d (built from storage by InitializeFunc)", got, len(w.names))
		}
		if next := parseTime(st["next_refresh_at"]); next.IsZero() || next.After(time.Now()) {
			t.Errorf("the new active node's next_refresh_at = %v, want a time in the past (accounts are due)", st["next_refresh_at"])
		}
	} else {
		t.Logf("the new active node had already run its periodic function %d times; its schedule at start is not observable", runs)
	}

	c.waitFor(periodicWait, "the new active node to refresh the rest of the batch", func() (bool, string) {
		done := w.refreshedAsWanted(batch)
		return len(done) == len(batch), fmt.Sprintf("%d of %d refreshed as often as wanted at Meta", len(done), len(batch))
	})
	t.Logf("every account of the batch refreshed %s after the loss", time.Since(killedAt).Round(time.Second))
	w.waitForCurrentTokens(batch, 30*time.Second)
	w.assertRefreshCounts(batch)
	for _, name := range batch {
		w.assertAccountHealthy(leader, name)
	}
}

// waitForHeldRun waits, with the door set by holdRefreshesAfter(pass,
// lost), until a periodic run over batch has had pass refreshes answered
// and stored, lost answers held after Meta and some calls held at the door,
// and returns the accounts refreshed.
func (w *world) waitForHeldRun(batch []string, pass, lost int) []string {
	var passed []string
	w.c.waitFor(periodicWait, fmt.Sprintf("%d refreshes to be answered, %d answers to be held and the rest to wait at Meta's door", pass, lost), func() (bool, string) {
		passed = w.answeredAndDelivered(batch)
		held, _, answersHeld := w.meta.door()
		return len(passed) == pass && answersHeld == lost && held > 0,
			fmt.Sprintf("%d answered, %d answers held, %d held at the door", len(passed), answersHeld, held)
	})
	w.waitForCurrentTokens(passed, 20*time.Second)
	return passed
}

// killMidRefresh kills n (SIGKILL) while its refreshes of batch are held
// (waitForHeldRun), waits for every held call to lose its caller, opens the
// door, and returns the accounts whose answer from Meta was lost: each is
// refreshed once more after the crash. The crash must have interrupted
// calls before Meta and lost wantLost answers, or the scenario did not
// happen.
func (w *world) killMidRefresh(n *node, batch []string, wantLost int) []string {
	n.kill()
	w.c.waitFor(10*time.Second, "the held refreshes and answers to lose their caller", func() (bool, string) {
		held, aborted, answersHeld := w.meta.door()
		return held == 0 && answersHeld == 0, fmt.Sprintf("%d held at the door (%d gave up), %d answers held", held, aborted, answersHeld)
	})
	_, aborted, _ := w.meta.door()
	_, lost := w.meta.answers()
	var lostAnswers []string
	for _, name := range batch {
		if lost[w.accounts[name].user.UserID] > 0 {
			lostAnswers = append(lostAnswers, name)
			w.accounts[name].wantRefreshes = 2
		}
	}
	if aborted == 0 || len(lostAnswers) != wantLost {
		w.t.Errorf("killing %s interrupted %d calls before Meta and lost %d answers (%v), want some and %d: the scenario did not happen as intended",
			n.name, aborted, len(lostAnswers), lostAnswers, wantLost)
	}
	w.t.Logf("killed %s: %d refreshes held at Meta's door, %d answered by Meta but never delivered (%v)", n.name, aborted, len(lostAnswers), lostAnswers)
	w.meta.openDoor()
	return lostAnswers
}

// assertLostAnswersKeptValidTokens checks, through n, the accounts whose
// refresh Meta answered but whose answer their node never received: each
// serves the token it was registered with, which Meta still accepts (a
// refresh does not revoke the token it refreshes), unless the new active
// node has refreshed it again already, when it serves the newest token.
func (w *world) assertLostAnswersKeptValidTokens(n *node, names []string) {
	w.t.Helper()
	for _, name := range names {
		got := w.tokenOn(n, name)
		if got == w.currentToken(name) {
			w.t.Logf("%s: already refreshed again by %s", name, n.name)
			continue
		}
		if got != w.accounts[name].registeredWith {
			w.t.Errorf("token/%s through %s after a lost answer is neither the token it had nor the newest Meta issued", name, n.name)
			continue
		}
		st, ok := w.meta.TokenInfo(got)
		if !ok || st.Revoked || !st.ExpiresAt.After(time.Now()) {
			w.t.Errorf("token/%s through %s after a lost answer is the token it had, but Meta no longer accepts it (known %v, revoked %v, expires %v)",
				name, n.name, ok, st.Revoked, st.ExpiresAt)
		}
	}
}

// killedNodeRejoins restarts the killed node: unsealed, it rejoins the
// Raft cluster as a standby, a voter again, and serves current tokens.
func (w *world) killedNodeRejoins() {
	c := w.c
	var killed *node
	for _, n := range c.nodes {
		if !n.up() {
			killed = n
		}
	}
	if killed == nil {
		c.fatalf("no node is down: %s", c.describe())
	}
	start := time.Now()
	killed.restart()
	active := c.active(90 * time.Second)
	if killed.health() != "standby" {
		c.fatalf("%s after restart: %s, want standby (active is %s)", killed.name, killed.health(), active.name)
	}
	c.waitForVoters(90 * time.Second)
	w.t.Logf("%s rejoined as a standby and voter %s after its restart", killed.name, time.Since(start).Round(100*time.Millisecond))
	for _, name := range w.names {
		if got, want := w.tokenOn(killed, name), w.currentToken(name); got != want {
			w.t.Errorf("token/%s through the rejoined %s is not the current token", name, killed.name)
		}
	}
}

// everyRefreshAccountedFor is the whole story's ledger: Meta saw exactly
// the refreshes the scenarios called for (one per due account, two where
// the first answer was lost with its node, one for the manual refresh,
// none for fresh tokens), none was refused, every account is valid, and
// every node serves every current token.
func (w *world) everyRefreshAccountedFor() {
	t, c := w.t, w.c
	w.assertRefreshCounts(w.names)
	reached, _ := w.meta.refreshCounts()
	total := 0
	for _, n := range reached {
		total += n
	}
	if calls := w.meta.Calls(graphtest.EndpointRefresh); calls != total {
		t.Errorf("Meta counted %d refresh calls, the door %d", calls, total)
	}
	active := c.active(30 * time.Second)
	for i, name := range w.names {
		w.assertAccountHealthy(c.running()[i%len(c.running())], name)
		w.assertTokenEverywhere(name)
	}
	st := w.status(active)
	if toInt64(st["accounts_total"]) != int64(len(w.names)) || toInt64(st["accounts_refresh_failing"]) != 0 || toInt64(st["accounts_needs_reauth"]) != 0 {
		t.Errorf("status on %s: %v", active.name, st)
	}
	t.Logf("%d accounts, %d refreshes at Meta, all valid on every node", len(w.names), total)
}

// --- helpers ---

// configure writes the engine's config through n, pointing every Meta host
// at the fake and the redirect URI at redirectURI.
func (w *world) configure(n *node, redirectURI string) {
	w.redirectURI = redirectURI
	ep := w.meta.Endpoints()
	cfg := map[string]any{
		"app_id":                  w.appID,
		"app_secret":              w.meta.AppSecret(),
		"redirect_uri":            w.redirectURI,
		"auth_base_url":           ep.AuthBaseURL,
		"api_base_url":            ep.APIBaseURL,
		"graph_base_url":          ep.GraphBaseURL,
		"facebook_auth_base_url":  ep.FacebookAuthBaseURL,
		"facebook_graph_base_url": ep.FacebookGraphBaseURL,
		// Refreshes held at Meta's door (activeNodeLostWhileRefreshesAreDue)
		// must still be waiting when their node is killed, not time out.
		"request_timeout": "2m",
	}
	if ep.Version != "" {
		cfg["graph_api_version"] = ep.Version
	}
	if _, err := n.client.Logical().Write(mountPath+"/config", cfg); err != nil {
		w.c.fatalf("write config through %s: %v", n.name, err)
	}
}

// addAccount creates the fake's user for an account the test will register.
func (w *world) addAccount(name string, wantRefreshes int) graphtest.User {
	u := w.meta.AddUser(name + "_owner")
	w.names = append(w.names, name)
	w.accounts[name] = &account{user: u, wantRefreshes: wantRefreshes}
	return u
}

// registerLongLived registers an account from a long-lived token issued at
// issued, with its expiry, through node n.
func (w *world) registerLongLived(n *node, name string, wantRefreshes int, issued time.Time) {
	u := w.addAccount(name, wantRefreshes)
	tok := w.secrets.Add("long-lived token for "+name, w.meta.MintLongLivedToken(u.UserID, basicScopes, issued))
	w.accounts[name].registeredWith = tok
	if _, err := n.client.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
		"access_token": tok,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		w.c.fatalf("register %s through %s: %v", name, n.name, err)
	}
}

// registerDueBatch registers count accounts whose tokens were issued 40
// days ago (20 days left: inside the 30-day window, past the 24-hour
// minimum), spread over every running node.
func (w *world) registerDueBatch(prefix string, count int) []string {
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	nodes := w.c.running()
	var batch []string
	for i := range count {
		name := fmt.Sprintf("%s%02d", prefix, i)
		w.registerLongLived(nodes[i%len(nodes)], name, 1, issued)
		batch = append(batch, name)
	}
	return batch
}

// refreshedOnce lists the accounts of names whose owner's token Meta
// refreshed at least once.
func (w *world) refreshedOnce(names []string) []string {
	reached, _ := w.meta.refreshCounts()
	var out []string
	for _, name := range names {
		if reached[w.accounts[name].user.UserID] > 0 {
			out = append(out, name)
		}
	}
	return out
}

// answeredAndDelivered lists the accounts of names whose owner's token Meta
// refreshed and whose answer was neither held nor lost.
func (w *world) answeredAndDelivered(names []string) []string {
	held, lost := w.meta.answers()
	var out []string
	for _, name := range w.refreshedOnce(names) {
		if id := w.accounts[name].user.UserID; held[id] == 0 && lost[id] == 0 {
			out = append(out, name)
		}
	}
	return out
}

// refreshedAsWanted lists the accounts of names that Meta refreshed at
// least as often as the account calls for.
func (w *world) refreshedAsWanted(names []string) []string {
	reached, _ := w.meta.refreshCounts()
	var out []string
	for _, name := range names {
		if a := w.accounts[name]; reached[a.user.UserID] >= a.wantRefreshes {
			out = append(out, name)
		}
	}
	return out
}

// assertRefreshCounts checks that Meta saw exactly the refreshes each
// account calls for, and refused none.
func (w *world) assertRefreshCounts(names []string) {
	w.t.Helper()
	reached, errored := w.meta.refreshCounts()
	var bad []string
	for _, name := range names {
		a := w.accounts[name]
		if got := reached[a.user.UserID]; got != a.wantRefreshes || errored[a.user.UserID] != 0 {
			bad = append(bad, fmt.Sprintf("%s: %d refreshes (%d refused), want %d", name, got, errored[a.user.UserID], a.wantRefreshes))
		}
	}
	if unknown := reached["(unknown token)"]; unknown != 0 {
		bad = append(bad, fmt.Sprintf("%d refreshes of tokens Meta never issued", unknown))
	}
	if len(bad) > 0 {
		w.t.Errorf("Meta's refreshes per account:\n%s", strings.Join(bad, "\n"))
	}
}

// waitForCurrentTokens waits until the active node serves, for every
// account of names, the newest token Meta issued for its owner.
func (w *world) waitForCurrentTokens(names []string, timeout time.Duration) {
	w.c.waitFor(timeout, "the refreshed tokens to be served", func() (bool, string) {
		var stale []string
		for _, name := range names {
			got, err := w.readToken(w.c.running()[0], name)
			if err != nil || got != w.currentToken(name) {
				stale = append(stale, name)
			}
		}
		return len(stale) == 0, fmt.Sprintf("not yet current: %v", stale)
	})
}

func (w *world) currentToken(name string) string {
	u := w.accounts[name].user
	return w.secrets.Add("current token for "+name, w.meta.CurrentToken(u.UserID))
}

// assertTokenEverywhere reads token/<name> through every running node and
// checks each answer is the current token.
func (w *world) assertTokenEverywhere(name string) {
	w.t.Helper()
	want := w.currentToken(name)
	for _, n := range w.c.running() {
		if got := w.tokenOn(n, name); got != want {
			w.t.Errorf("token/%s through %s is not the newest token Meta issued for %s", name, n.name, w.accounts[name].user.Username)
		}
	}
}

func (w *world) tokenOn(n *node, name string) string {
	w.t.Helper()
	tok, err := w.readToken(n, name)
	if err != nil {
		w.c.fatalf("%v", err)
	}
	return tok
}

func (w *world) readToken(n *node, name string) (string, error) {
	s, err := n.client.Logical().Read(mountPath + "/token/" + name)
	if err != nil || s == nil {
		return "", fmt.Errorf("read token/%s through %s: %v (nil: %v)", name, n.name, err, s == nil)
	}
	tok, _ := s.Data["access_token"].(string)
	return tok, nil
}

func (w *world) assertAccountHealthy(n *node, name string) {
	w.t.Helper()
	s, err := n.client.Logical().Read(mountPath + "/accounts/" + name)
	if err != nil || s == nil {
		w.c.fatalf("read accounts/%s through %s: %v", name, n.name, err)
	}
	if s.Data["status"] != "valid" || toInt64(s.Data["consecutive_failures"]) != 0 || s.Data["last_error"] != nil && s.Data["last_error"] != "" {
		w.t.Errorf("accounts/%s through %s: status %v, consecutive_failures %v, last_error %v",
			name, n.name, s.Data["status"], s.Data["consecutive_failures"], s.Data["last_error"])
	}
}

func (w *world) status(n *node) map[string]any {
	w.t.Helper()
	s, err := n.client.Logical().Read(mountPath + "/status")
	if err != nil || s == nil {
		w.c.fatalf("read status through %s: %v", n.name, err)
	}
	return s.Data
}

// assertCallDeltas checks how many calls each named Meta endpoint received
// since before.
func (w *world) assertCallDeltas(before map[string]int, want map[string]int) {
	w.t.Helper()
	after := w.meta.AllCalls()
	for ep, n := range want {
		if got := after[ep] - before[ep]; got != n {
			w.t.Errorf("Meta's %s endpoint got %d calls, want %d", ep, got, n)
		}
	}
}

// followAuthorization plays the account owner's browser: it opens the
// authorization URL (the fake's dialog approves at once as username) and
// follows Meta's redirect to the callback, returning the callback's page.
func (w *world) followAuthorization(authURL, username string) string {
	w.t.Helper()
	hc := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	u, err := url.Parse(authURL)
	if err != nil {
		w.t.Fatalf("auth-url returned an unparsable url: %v", err)
	}
	q := u.Query()
	q.Set("fake_user", username)
	u.RawQuery = q.Encode()
	resp, err := hc.Get(u.String())
	if err != nil {
		w.t.Fatalf("open the authorization dialog: %v", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, w.redirectURI+"?") {
		w.t.Fatalf("the dialog answered %d to %q, want a 302 to %s", resp.StatusCode, loc, w.redirectURI)
	}
	if cb, err := url.Parse(loc); err == nil {
		w.secrets.Add("authorization code", cb.Query().Get("code"))
	}
	resp, err = hc.Get(loc)
	if err != nil {
		w.c.fatalf("callback: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		w.c.fatalf("callback answered %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

// --- secrets in the logs ---

// checkLogsForSecrets scans every node's log, complete once the nodes have
// stopped, for every secret the test used.
func (w *world) checkLogsForSecrets() {
	t := w.t
	for _, name := range w.names {
		w.currentToken(name)
	}
	var leaks []string
	pluginLines := 0
	for _, n := range w.c.nodes {
		nodeLeaks, nodePluginLines, err := w.secrets.ScanLog(n.logPath, n.name+"'s log")
		if err != nil {
			t.Errorf("read %s's log: %v", n.name, err)
			continue
		}
		leaks = append(leaks, nodeLeaks...)
		pluginLines += nodePluginLines
	}
	// The scan proves nothing unless the plugin's own lines reach the logs.
	// Only the nodes that were active ran the plugin, so the count is over
	// the whole cluster.
	if pluginLines == 0 {
		t.Error("no node's log has a line from the plugin process; the leak check would mean nothing")
	}
	sort.Strings(leaks)
	for _, l := range leaks {
		t.Error(l)
	}
	if len(leaks) == 0 {
		t.Logf("the %d node logs contain none of the %d secrets this test used", len(w.c.nodes), len(w.secrets.Snapshot()))
	}
}

// --- small things ---

func toInt64(v any) int64 {
	switch x := v.(type) {
	case nil:
		return 0
	case interface{ Int64() (int64, error) }: // json.Number
		n, _ := x.Int64()
		return n
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return -1
}

func parseTime(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
