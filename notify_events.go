package instagram

import (
	"context"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// Which changes make events, and where they are caught. Every stored
// account's change goes through saveAccount (registrations, callbacks,
// refreshes, health checks, deauthorizations, the proxy's 190), and every
// deletion through deleteAccount (the accounts path, data-deletion
// requests): those two call stageAccountEvent and stageDeletedEvent, so no
// caller has a branch of its own. A record knows the status of the stored
// record it came from (account.savedStatus, set by loadAccount, carried by
// clone, and set by updateAccount on a record that replaces the stored
// one), so saving it knows the change it makes; notify.Transition says
// which changes are events. markDeauthorized names its own event
// (account.notifyAs). The app-wide pause is announced by the periodic
// function (notify.go).
//
// Durability: the event is stored in the outbox BEFORE the change, under
// the account's lock. A crash, a plugin reload or a leader change after
// the change is stored finds the event stored too, and the next outbox
// delivers it; nothing has to be recomputed, because nothing can be lost.
// The other order would need a record of "changes not yet announced"
// written with the change anyway. The price of this order: a crash between
// the event's write and the change's leaves an event about a change that
// was not stored (the periodic work then usually makes it again, with a
// second event); a failed write withdraws the event (withdrawEvent). An
// event is a prompt to look, and the account itself is the truth: the
// receiver reads accounts/<name> or acts on the status the event names,
// and deduplicates on id.

// stageAccountEvent stores the event, if any, that saving a makes.
func (b *backend) stageAccountEvent(ctx context.Context, s logical.Storage, a *account) (stagedEvent, error) {
	typ := a.notifyAs
	if typ == "" {
		t, ok := notify.Transition(a.savedStatus, a.Status)
		if !ok {
			return stagedEvent{}, nil
		}
		typ = t
	}
	ev := notify.Event{Type: typ, Account: a.Name, Status: a.Status, At: b.clock.Now()}
	switch typ {
	case notify.NeedsReauth, notify.RefreshFailing, notify.Deauthorized:
		// LastError is redacted where it is recorded; the outbox bounds
		// and scrubs it again.
		ev.Reason = a.LastError
	case notify.Reauthorized:
		ev.Reason = "the account is usable again"
	}
	return b.stageEvent(ctx, s, ev)
}

// stageDeletedEvent stores the account.deleted event of deleting account
// name, if it is stored (a delete of no account is no change). The caller
// holds the account's lock. Once built, the schedule knows every stored
// account, so a deletion reads no account to tell (the callbacks' cost
// stays what path_deauthorize_test.go asserts).
func (b *backend) stageDeletedEvent(ctx context.Context, s logical.Storage, name string) (stagedEvent, error) {
	if _, known := b.sched.AccountOf(name); !known {
		if b.sched.Built() {
			return stagedEvent{}, nil
		}
		a, err := loadAccount(ctx, s, name)
		if err != nil || a == nil {
			return stagedEvent{}, err
		}
	}
	return b.stageEvent(ctx, s, notify.Event{Type: notify.Deleted, Account: name, Status: "deleted", At: b.clock.Now()})
}

// vaultEventTimeout bounds handing one event to Vault's event system,
// which a change waits for under its account's lock.
const vaultEventTimeout = 5 * time.Second

// sendVaultEvent sends ev through Vault's own event system (the SDK's event
// sender), without the consent link. A Vault without an event system for
// plugins says so (notify.EventsUnavailable): that is normal, and quiet.
// The webhook does not depend on this; nothing retries it.
func (b *backend) sendVaultEvent(ctx context.Context, ev notify.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), vaultEventTimeout)
	defer cancel()
	typ, pairs := ev.VaultEvent()
	err := logical.SendEvent(ctx, b, typ, pairs...)
	if err == nil || notify.EventsUnavailable(err) {
		return
	}
	b.Logger().Warn("could not send an event to Vault's event system", "event_type", typ, "account", ev.Account, "error", err)
}
