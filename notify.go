package instagram

import (
	"context"
	"fmt"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// How the engine drives its notification outbox (internal/notify, the pure
// core): the backend owns one outbox, made here with the backend's clock and
// HTTP client and closed when the mount goes (clean). Events are stored
// where a change is saved (notify_events.go), delivered by the outbox's own
// goroutines: the periodic function hands delivery off after its
// replication checks (so only where the refreshes run), and an enqueue
// hands off at once. Neither ever waits for a receiver.

// newOutbox is the backend's outbox. adjust is backendOptions.notify.
func newOutbox(b *backend, adjust func(*notify.Options)) *notify.Outbox {
	opts := notify.Options{
		Clock:  b.clock,
		Client: b.httpClient,
		// The framework backend's logger exists only once Setup ran.
		LoggerFunc: func() hclog.Logger { return b.Logger() },
	}
	if adjust != nil {
		adjust(&opts)
	}
	return notify.New(opts)
}

// notifyStore is logical.Storage as the outbox takes it.
type notifyStore struct{ s logical.Storage }

func (n notifyStore) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := n.s.Get(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	return e.Value, nil
}

func (n notifyStore) Put(ctx context.Context, key string, value []byte) error {
	return n.s.Put(ctx, &logical.StorageEntry{Key: key, Value: value})
}

func (n notifyStore) Delete(ctx context.Context, key string) error { return n.s.Delete(ctx, key) }

func (n notifyStore) List(ctx context.Context, prefix string) ([]string, error) {
	return n.s.List(ctx, prefix)
}

// notifyTarget is where cfg sends events: the zero Target (nothing sent)
// without a config or a notify_url.
func notifyTarget(cfg *config) notify.Target {
	if cfg == nil || cfg.NotifyURL == "" {
		return notify.Target{}
	}
	return notify.Target{URL: cfg.NotifyURL, Secret: cfg.NotifySecret}
}

// notifyPeriodic is the periodic function's part in notifications, called
// after its replication checks: it sends the app events that the app-wide
// pause's coming or going calls for, and hands delivery off (the first
// run after a start, a reload or a leader change loads what an earlier
// outbox left stored). It returns at once.
func (b *backend) notifyPeriodic(ctx context.Context, s logical.Storage) {
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		return // the periodic work reports it
	}
	b.notifyAppPause(ctx, s)
	b.outbox.Run(notifyStore{s}, notifyTarget(cfg))
}

// notifyAppPause sends app.paused when an app-wide pause is in force that no
// event announced yet, and app.resumed once it is over. The pause lives in
// memory (app_pause.go) and begins inside a call to Meta, where no storage is
// at hand, so the periodic function announces it: the run that met the
// throttle, at its end, or the next. A failed enqueue is tried again at the
// next run.
func (b *backend) notifyAppPause(ctx context.Context, s logical.Storage) {
	until, reason := b.appPaused(b.clock.Now())
	paused := !until.IsZero()
	if paused == b.appPauseNotified.Load() {
		return
	}
	ev := notify.Event{Type: notify.AppResumed, Status: "running", Reason: "the app-wide pause is over"}
	if paused {
		ev = notify.Event{Type: notify.AppPaused, Status: "paused",
			Reason: fmt.Sprintf("every call to Meta waits until %s: %s", formatTime(until), reason)}
	}
	st, err := b.stageEvent(ctx, s, ev)
	if err != nil {
		b.Logger().Warn("could not store an app notification; the next periodic run retries", "type", string(ev.Type), "error", err)
		return
	}
	b.appPauseNotified.Store(paused)
	b.publishEvent(ctx, s, st)
}

// stagedEvent is an event on its way: stored in the outbox when the
// webhook is on (queued), and announced by publishEvent once the change it
// is about is stored.
type stagedEvent struct {
	ev     notify.Event
	queued bool
	target notify.Target
	// linkState is the hash of the consent link's pending state, if the
	// event carries one, so that a withdrawn event takes its link along.
	linkState string
}

// stageEvent gives ev its id and time and, when config has a notify_url,
// stores it in the outbox (with a consent link if it is a needs_reauth
// event and notify_reauth_links asks for one). Only where the refreshes
// run: elsewhere (a performance standby or secondary) the change itself
// cannot be stored either, and Vault forwards it to where it can.
//
// An error means nothing was stored; the caller then does not make the
// change either.
func (b *backend) stageEvent(ctx context.Context, s logical.Storage, ev notify.Event) (stagedEvent, error) {
	id, err := notify.NewID()
	if err != nil {
		return stagedEvent{}, err
	}
	ev.ID = id
	if ev.At.IsZero() {
		ev.At = b.clock.Now()
	}
	ev.At = ev.At.UTC().Truncate(time.Second)
	st := stagedEvent{ev: ev}
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		return stagedEvent{}, err
	}
	st.target = notifyTarget(cfg)
	if !st.target.Enabled() || !b.WriteSafeReplicationState() {
		return st, nil
	}
	if ev.Type == notify.NeedsReauth && cfg.NotifyReauthLinks {
		link, hash, err := b.reauthLink(ctx, s, cfg, ev.Account)
		if err != nil {
			// The event matters more than its link: it goes without one.
			b.Logger().Warn("could not make a re-authorization link for a notification; the event is sent without one", "account", ev.Account, "error", err)
		} else {
			ev.ReauthURL, st.linkState = link, hash
		}
	}
	queued, err := b.outbox.Enqueue(ctx, notifyStore{s}, ev)
	if err != nil {
		b.dropLinkState(ctx, s, st.linkState)
		return stagedEvent{}, err
	}
	st.ev, st.queued = queued, true
	return st, nil
}

// publishEvent announces a staged event once the change it is about is
// stored: it hands the outbox's delivery off (returning at once) and sends
// the event through Vault's own event system.
func (b *backend) publishEvent(ctx context.Context, s logical.Storage, st stagedEvent) {
	if st.ev.Type == "" {
		return
	}
	if st.queued {
		b.outbox.Run(notifyStore{s}, st.target)
	}
	b.sendVaultEvent(ctx, st.ev)
}

// withdrawEvent takes back a staged event whose change could not be stored.
// An attempt to deliver it may already be under way (a periodic run's
// delivery picked it up meanwhile): it then stays, an event about a change
// that was not made, which the receiver learns from the account itself.
func (b *backend) withdrawEvent(ctx context.Context, s logical.Storage, st stagedEvent) {
	if !st.queued {
		return
	}
	ok, err := b.outbox.Withdraw(ctx, notifyStore{s}, st.ev.Account, st.ev.ID)
	if err != nil {
		b.Logger().Warn("could not withdraw the notification of a change that was not stored", "type", string(st.ev.Type), "account", st.ev.Account, "error", err)
	}
	if ok {
		b.dropLinkState(ctx, s, st.linkState)
	}
}
