//go:build e2e

package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// webhookEvent is an event as a receiver decodes it.
type webhookEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Account   string `json:"account"`
	Status    string `json:"status"`
	At        string `json:"at"`
	Reason    string `json:"reason"`
	ReauthURL string `json:"reauth_url"`
}

// webhookReceiver is a receiver as an application writes one: it checks
// X-Hub-Signature-256 over the raw body with its own HMAC code before
// anything else, and answers with status() (200 by default).
type webhookReceiver struct {
	*httptest.Server
	secret string
	status atomic.Int32

	mu  sync.Mutex
	got []receivedEvent
}

type receivedEvent struct {
	ev       webhookEvent
	body     string
	verified bool
	answered int
}

func newWebhookReceiver(t *testing.T, secret string) *webhookReceiver {
	r := &webhookReceiver{secret: secret}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write(body)
		sig, _ := strings.CutPrefix(req.Header.Get("X-Hub-Signature-256"), "sha256=")
		got, err := hex.DecodeString(sig)
		verified := err == nil && hmac.Equal(got, mac.Sum(nil)) && req.Method == http.MethodPost &&
			req.Header.Get("Content-Type") == "application/json"
		var ev webhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("the receiver got a body that is not an event: %q", body)
		}
		status := int(r.status.Load())
		if !verified {
			status = http.StatusUnauthorized
		}
		r.mu.Lock()
		r.got = append(r.got, receivedEvent{ev: ev, body: string(body), verified: verified, answered: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) received() []receivedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// accepted is the events the receiver answered 2xx, in order.
func (r *webhookReceiver) accepted() []webhookEvent {
	var out []webhookEvent
	for _, g := range r.received() {
		if g.answered/100 == 2 {
			out = append(out, g.ev)
		}
	}
	return out
}

func (r *webhookReceiver) summary() string {
	var parts []string
	for _, g := range r.received() {
		parts = append(parts, fmt.Sprintf("%s %s id=%s verified=%v answered=%d", g.ev.Type, g.ev.Account, g.ev.ID, g.verified, g.answered))
	}
	return "received: [" + strings.Join(parts, "; ") + "]"
}

// enableWebhook points the mount's notify_url at a new receiver.
func (e *env) enableWebhook(reauthLinks bool) *webhookReceiver {
	e.t.Helper()
	secret := e.secrets.Add("notify secret", "e2e-notify-"+vaultproc.RandHex(16))
	r := newWebhookReceiver(e.t, secret)
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{
		"notify_url": r.URL + "/hooks/instagram", "notify_secret": secret, "notify_reauth_links": reauthLinks,
	}); err != nil {
		e.fatalf("write config: %v", err)
	}
	return r
}

// revokeAndRefresh registers account name with a token two days old,
// revokes the token at the fake (the owner changed their password, say)
// and has a manual refresh find it out: needs_reauth.
func (e *env) revokeAndRefresh(name string) graphtest.User {
	e.t.Helper()
	u := e.addUser(name + "_owner")
	issued := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	tok := e.mintLongLived(u, issued, "instagram_business_basic")
	if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
		"access_token": tok, "expires_at": issued.Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register %s: %v", name, err)
	}
	e.fake.Revoke(tok)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name+"/refresh", nil); err == nil {
		e.fatalf("a refresh of a revoked token succeeded")
	}
	if st := e.readAccount(e.root, name)["status"]; st != "needs_reauth" {
		e.fatalf("%s is %v after its token was revoked", name, st)
	}
	return u
}

// checkEventsClean fails if a received body carries a secret the test
// knows (the consent link aside, which is the link's own state).
func (e *env) checkEventsClean(r *webhookReceiver) {
	e.t.Helper()
	for _, g := range r.received() {
		body := g.body
		if g.ev.ReauthURL != "" {
			link, _ := json.Marshal(g.ev.ReauthURL)
			body = strings.Replace(body, string(link), `""`, 1)
		}
		for v, label := range e.secrets.Snapshot() {
			if strings.Contains(body, v) {
				e.t.Errorf("the %s event carries the %s", g.ev.Type, label)
			}
		}
	}
}

// TestWebhookReauthLoopOnRealVault: with notify_url set on a real Vault,
// an account whose token was revoked becomes needs_reauth and the receiver
// gets a signed account.needs_reauth carrying a consent link; the owner
// follows the link through (the fake) Instagram's dialog to Vault's
// callback, and account.reauthorized follows.
func TestWebhookReauthLoopOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.enableWebhook(true)
	owner := e.revokeAndRefresh("shop")

	// An enqueue hands delivery off at once: no periodic run to wait for.
	e.eventually("account.needs_reauth at the receiver", 30*time.Second, func() bool {
		return len(r.accepted()) >= 1
	}, r.summary)
	ev := r.accepted()[0]
	if ev.Type != "account.needs_reauth" || ev.Account != "shop" || ev.Status != "needs_reauth" || ev.ReauthURL == "" || len(ev.ID) != 32 {
		t.Fatalf("first event %+v", ev)
	}
	if _, err := time.Parse(time.RFC3339, ev.At); err != nil {
		t.Errorf("at %q is not RFC 3339", ev.At)
	}
	link, err := url.Parse(ev.ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	e.secrets.Add("state of the consent link", link.Query().Get("state"))

	back := e.authorize(link, owner)
	anon := &http.Client{Timeout: 30 * time.Second}
	status, _, body := e.get(anon, e.redirectURI+"?"+url.Values{"code": {back.Get("code")}, "state": {back.Get("state")}}.Encode())
	if status != http.StatusOK || !strings.Contains(body, "@"+owner.Username) {
		t.Fatalf("the callback answered %d:\n%s", status, body)
	}
	e.eventually("account.reauthorized at the receiver", 30*time.Second, func() bool {
		return len(r.accepted()) >= 2
	}, r.summary)
	if ev := r.accepted()[1]; ev.Type != "account.reauthorized" || ev.Account != "shop" || ev.Status != "valid" {
		t.Fatalf("second event %+v", ev)
	}
	for _, g := range r.received() {
		if !g.verified {
			t.Errorf("the %s event's signature does not verify", g.ev.Type)
		}
	}
	e.checkEventsClean(r)
	if st := e.readAccount(e.root, "shop")["status"]; st != "valid" {
		t.Fatalf("shop is %v after its owner re-authorized it", st)
	}
}

// TestWebhookSurvivesPluginReload: events the receiver did not take before
// a plugin reload (it answered 503) are delivered by the reloaded plugin,
// with the same id, and the backlog empties.
func TestWebhookSurvivesPluginReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.enableWebhook(false)
	r.status.Store(http.StatusServiceUnavailable)
	e.revokeAndRefresh("shop")
	e.revokeAndRefresh("brand")
	e.eventually("both events tried once", 30*time.Second, func() bool {
		return len(r.received()) >= 2
	}, r.summary)
	ids := map[string]string{}
	for _, g := range r.received() {
		ids[g.ev.Account] = g.ev.ID
	}
	if st := e.status()["notifications"].(map[string]any); fmt.Sprint(st["pending"]) != "2" {
		t.Fatalf("status notifications before the reload: %v", st)
	}

	before := optTime(t, e.status()["started_at"])
	nextSecond(before)
	if _, err := e.root.Sys().ReloadPlugin(&api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		e.fatalf("reload plugin: %v", err)
	}
	e.eventually("the reloaded plugin", 60*time.Second, func() bool {
		st, err := e.tryStatus()
		return err == nil && optTime(t, st["started_at"]).After(before)
	}, func() string { return "" })
	r.status.Store(http.StatusOK)

	// The reloaded plugin's first periodic run loads the stored events.
	e.waitFor("the events delivered after the reload", func() bool { return len(r.accepted()) >= 2 })
	for _, ev := range r.accepted() {
		if ev.Type != "account.needs_reauth" || ids[ev.Account] == "" || ev.ID != ids[ev.Account] {
			t.Errorf("after the reload: %+v; want the same event as before (id %s)", ev, ids[ev.Account])
		}
	}
	e.eventually("an empty backlog", 30*time.Second, func() bool {
		st, err := e.tryStatus()
		if err != nil {
			return false
		}
		n, _ := st["notifications"].(map[string]any)
		return fmt.Sprint(n["pending"]) == "0" && n["loaded"] == true
	}, func() string { return fmt.Sprint(e.status()["notifications"]) })
	for _, g := range r.received() {
		if !g.verified {
			t.Errorf("the %s event's signature does not verify", g.ev.Type)
		}
	}
	e.checkEventsClean(r)
}
