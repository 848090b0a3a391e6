//go:build ha

package ha

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// hookReceiver is a webhook receiver that checks each event's signature
// with its own HMAC code and answers status (503 while the test says the
// application is down).
type hookReceiver struct {
	*httptest.Server
	secret string
	status atomic.Int32

	mu  sync.Mutex
	got []hookEvent
}

type hookEvent struct {
	ID, Type, Account, Status string
	verified                  bool
	answered                  int
}

func newHookReceiver(t *testing.T, secret string, status int) *hookReceiver {
	r := &hookReceiver{secret: secret}
	r.status.Store(int32(status))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write(body)
		sig, _ := strings.CutPrefix(req.Header.Get("X-Hub-Signature-256"), "sha256=")
		want, err := hex.DecodeString(sig)
		var ev struct{ ID, Type, Account, Status string }
		_ = json.Unmarshal(body, &ev)
		got := hookEvent{ID: ev.ID, Type: ev.Type, Account: ev.Account, Status: ev.Status,
			verified: err == nil && hmac.Equal(want, mac.Sum(nil)), answered: int(r.status.Load())}
		r.mu.Lock()
		r.got = append(r.got, got)
		r.mu.Unlock()
		w.WriteHeader(got.answered)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) events() []hookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *hookReceiver) accepted() []hookEvent {
	var out []hookEvent
	for _, g := range r.events() {
		if g.answered/100 == 2 {
			out = append(out, g)
		}
	}
	return out
}

func (r *hookReceiver) String() string {
	var parts []string
	for _, g := range r.events() {
		parts = append(parts, fmt.Sprintf("%s %s id=%s answered=%d verified=%v", g.Type, g.Account, g.ID, g.answered, g.verified))
	}
	return "received [" + strings.Join(parts, "; ") + "]"
}

// enableWebhook points notify_url at a new receiver answering status.
func (w *world) enableWebhook(n *node, status int) *hookReceiver {
	secret := w.secrets.Add("notify secret", "ha-notify-"+vaultproc.RandHex(16))
	r := newHookReceiver(w.t, secret, status)
	if _, err := n.client.Logical().Write(mountPath+"/config", map[string]any{"notify_url": r.URL + "/hook", "notify_secret": secret}); err != nil {
		w.c.fatalf("write notify_url through %s: %v", n.name, err)
	}
	return r
}

// assertNeedsReauthDelivered waits for the receiver to accept
// account.needs_reauth for name, signed, with the id of every earlier
// attempt (wantID, when set) and no other id for that account.
func (w *world) assertNeedsReauthDelivered(r *hookReceiver, name, wantID string) {
	w.c.waitFor(periodicWait, "account.needs_reauth for "+name+" accepted by the receiver", func() (bool, string) {
		for _, g := range r.accepted() {
			if g.Account == name && g.Type == "account.needs_reauth" {
				return true, ""
			}
		}
		return false, r.String()
	})
	ids := map[string]bool{}
	for _, g := range r.events() {
		if g.Account != name {
			continue
		}
		ids[g.ID] = true
		if !g.verified || g.Type != "account.needs_reauth" || g.Status != "needs_reauth" {
			w.t.Errorf("event for %s: %+v (signature verified %v)", name, g, g.verified)
		}
	}
	if len(ids) != 1 || (wantID != "" && !ids[wantID]) {
		w.t.Errorf("ids received for %s: %v; want the one event's id %q on every attempt", name, ids, wantID)
	}
}

// TestServerKilledBetweenStatusWriteAndDelivery kills a lone Vault server
// (SIGKILL) while an account's needs_reauth is stored and its event not yet
// handed to delivery: the plugin built with crash points holds the write
// right after the account's Put (after-account-write). The receiver is down
// until the kill (a periodic run may try the event meanwhile: it is stored
// before the change). After the restart the event arrives, signed, with
// one id.
func TestServerKilledBetweenStatusWriteAndDelivery(t *testing.T) {
	p := buildCrashpointsPlugin(t)
	w := newWorldWith(t, "notifycrash", 1, p)
	c := w.c
	srv := c.active(30 * time.Second)
	// shop's first write is its registration, its second the needs_reauth.
	setPluginEnv(t, srv, p, "INSTAGRAM_CRASHPOINT=after-account-write:shop@2")
	w.configure(srv, srv.addr+"/v1/"+mountPath+"/callback")
	r := w.enableWebhook(srv, http.StatusServiceUnavailable)

	w.registerLongLived(srv, "shop", 0, time.Now().Add(-48*time.Hour).Truncate(time.Second))
	w.meta.Revoke(w.accounts["shop"].registeredWith)
	go func() {
		// Held at the crash point until Vault dies: never answers.
		_, _ = srv.client.Logical().Write(mountPath+"/accounts/shop/refresh", nil)
	}()
	c.waitFor(30*time.Second, "the needs_reauth write to reach the crash point", func() (bool, string) {
		return countLines(srv.logPath, "crash point reached", "account=shop") > 0, "not yet"
	})
	var tried string
	if ev := r.events(); len(ev) > 0 {
		tried = ev[0].ID
		t.Logf("a periodic run tried the stored event before the kill (%d attempts)", len(ev))
	}
	setPluginEnv(t, srv, p)
	srv.kill()
	r.status.Store(http.StatusOK)
	srv.restart()
	srv = c.active(60 * time.Second)

	if st, err := srv.client.Logical().Read(mountPath + "/accounts/shop"); err != nil || st == nil || st.Data["status"] != "needs_reauth" {
		t.Fatalf("accounts/shop after the restart: %v, %v; want the stored needs_reauth", st, err)
	}
	w.assertNeedsReauthDelivered(r, "shop", tried)
}

// TestLeaderKilledWithUndeliveredEvents: on a three-node cluster, the
// active node is killed while the receiver is down and an event waits in
// the outbox; the new active node delivers it with the same id.
func TestLeaderKilledWithUndeliveredEvents(t *testing.T) {
	w := newWorld(t, "notifyha", 3)
	c := w.c
	old := c.active(30 * time.Second)
	w.configure(old, old.addr+"/v1/"+mountPath+"/callback")
	r := w.enableWebhook(old, http.StatusServiceUnavailable)

	w.registerLongLived(old, "shop", 0, time.Now().Add(-48*time.Hour).Truncate(time.Second))
	w.meta.Revoke(w.accounts["shop"].registeredWith)
	if _, err := old.client.Logical().Write(mountPath+"/accounts/shop/refresh", nil); err == nil {
		c.fatalf("a refresh of a revoked token succeeded")
	}
	c.waitFor(30*time.Second, "the first attempt to deliver account.needs_reauth", func() (bool, string) {
		return len(r.events()) > 0, r.String()
	})
	id := r.events()[0].ID

	killedAt := time.Now()
	old.kill()
	r.status.Store(http.StatusOK)
	leader := c.active(60 * time.Second)
	t.Logf("%s became active %s after the loss", leader.name, time.Since(killedAt).Round(100*time.Millisecond))
	w.assertNeedsReauthDelivered(r, "shop", id)
	t.Logf("delivered by the new active node %s after the loss", time.Since(killedAt).Round(time.Second))
	c.waitFor(30*time.Second, "an empty backlog on the new active node", func() (bool, string) {
		n, _ := w.status(leader)["notifications"].(map[string]any)
		return fmt.Sprint(n["pending"]) == "0" && n["loaded"] == true, fmt.Sprint(n)
	})
}
