package instagram

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// fakeEventSender records what the engine sends through Vault's event
// system, answering err.
type fakeEventSender struct {
	mu   sync.Mutex
	sent []sentVaultEvent
	err  error
}

type sentVaultEvent struct {
	typ      string
	metadata map[string]string
}

func (f *fakeEventSender) SendEvent(_ context.Context, typ logical.EventType, ev *logical.EventData) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	md := map[string]string{}
	for k, v := range ev.GetMetadata().GetFields() {
		md[k] = v.GetStringValue()
	}
	f.sent = append(f.sent, sentVaultEvent{typ: string(typ), metadata: md})
	return f.err
}

func (f *fakeEventSender) events() []sentVaultEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// TestChangesAreSentThroughVaultsEventSystem: each event also goes through
// the SDK's event sender as instagram/<type>, with the webhook's id, the
// account, status and path as metadata and never the consent link; with
// or without a notify_url.
func TestChangesAreSentThroughVaultsEventSystem(t *testing.T) {
	sender := &fakeEventSender{}
	e := newTestEnvConf(t, func(c *logical.BackendConfig) { c.EventsSender = sender })
	rcv := e.enableNotify(answerAlways(http.StatusOK), map[string]any{"notify_reauth_links": true})
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	e.delivered()
	e.mustOK(e.do(logical.DeleteOperation, "accounts/shop", nil))
	e.delivered()

	hooks := rcv.deliveries()
	sent := sender.events()
	if len(sent) != 2 || len(hooks) != 2 {
		t.Fatalf("%d Vault events and %d webhooks, want 2 of each", len(sent), len(hooks))
	}
	for i, want := range []struct {
		typ, status, operation string
	}{
		{"instagram/account-needs-reauth", statusNeedsReauth, "update"},
		{"instagram/account-deleted", "deleted", "delete"},
	} {
		got := sent[i]
		if got.typ != want.typ || !strings.HasPrefix(got.typ, notify.VaultEventPrefix) {
			t.Errorf("event %d: type %s, want %s", i, got.typ, want.typ)
		}
		md := got.metadata
		if md["id"] != hooks[i].ev.ID || md["account"] != "shop" || md["status"] != want.status ||
			md["path"] != "accounts/shop" || md["operation"] != want.operation || md["type"] != string(hooks[i].ev.Type) {
			t.Errorf("event %d (%s): metadata %v", i, got.typ, md)
		}
		for k, v := range md {
			if k == "reauth_url" || strings.Contains(v, "state=") || (hooks[i].ev.ReauthURL != "" && strings.Contains(v, hooks[i].ev.ReauthURL)) {
				t.Errorf("event %d: metadata %s carries the consent link", i, k)
			}
		}
	}
	if hooks[0].ev.ReauthURL == "" {
		t.Fatal("the webhook's needs_reauth carries no link: the test proves nothing about keeping it out of Vault's events")
	}
	e.secrets = append(e.secrets, hooks[0].ev.ReauthURL)

	// Without a notify_url, Vault's events still go.
	e.mustOK(e.write("config", map[string]any{"notify_url": ""}))
	u2 := e.registerFromCode("other", "other_user")
	e.makeNeedsReauth("other", u2)
	if got := sender.events(); len(got) != 3 || got[2].typ != "instagram/account-needs-reauth" || got[2].metadata["account"] != "other" || got[2].metadata["id"] == "" {
		t.Fatalf("without notify_url: %v", got)
	}
}

// TestVaultWithoutEventsIsQuiet: a Vault that has no event system for
// plugins answers "events not enabled" in one of its ways; the engine says
// nothing of it, and the change and the webhook go on. Another failure is
// logged.
func TestVaultWithoutEventsIsQuiet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		logged bool
	}{
		{"no sender", framework.ErrNoEvents, false},
		{"broker not started", errors.New("event broker has not been started"), false},
		{"older Vault", errors.New("rpc error: code = Unimplemented desc = unknown service pb.Events"), false},
		{"another failure", errors.New("rpc error: code = Unavailable desc = connection refused"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender := &fakeEventSender{err: tc.err}
			e := newTestEnvConf(t, func(c *logical.BackendConfig) { c.EventsSender = sender })
			rcv := e.enableNotify(answerAlways(http.StatusOK), nil)
			u := e.registerFromCode("shop", "shop_user")
			e.makeNeedsReauth("shop", u)
			e.delivered()
			if len(rcv.deliveries()) != 1 {
				t.Fatalf("webhooks %v", rcv.types())
			}
			logged := strings.Contains(e.logs.String(), "could not send an event to Vault's event system")
			if logged != tc.logged {
				t.Fatalf("logged %v, want %v:\n%s", logged, tc.logged, e.logs.String())
			}
		})
	}
	// The real "no sender" case: a backend set up without one.
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.makeNeedsReauth("shop", u)
	if strings.Contains(e.logs.String(), "event system") {
		t.Fatal("a Vault without events was logged about")
	}
}
