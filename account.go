package instagram

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

const (
	accountStoragePrefix = "accounts/"

	// Token kinds (account.TokenKind): what the owner's authorization gave.
	// Instagram Login and classic Facebook Login give user tokens; a
	// Facebook Login for Business configuration gives a user token or a
	// Business Integration System User token, which belongs to the
	// owner's business and never expires or lives 60 days.
	tokenKindUser       = "user"
	tokenKindSystemUser = "system_user"

	// The statuses (account_state.go assigns them); the schedule counts
	// accounts by them. statusExpiring is a Facebook Login account whose
	// token still works but expires within refresh_window: Facebook has no
	// refresh grant, so only its owner authorizing again (auth-url) renews
	// it. Still served.
	statusValid          = schedule.StatusValid
	statusRefreshFailing = schedule.StatusRefreshFailing
	statusNeedsReauth    = schedule.StatusNeedsReauth
	statusExpiring       = schedule.StatusExpiring
)

// account is one registered Instagram account as stored. Records handed out
// by the cache are shared and must be treated as immutable: code that changes
// an account works on a copy (see clone) and saves it.
type account struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Login         string `json:"login"`

	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	UserID      string   `json:"user_id"`
	AppScopedID string   `json:"app_scoped_id,omitempty"`
	Username    string   `json:"username"`
	AccountType string   `json:"account_type,omitempty"`
	Scopes      []string `json:"scopes"`
	// TokenKind is tokenKindUser or tokenKindSystemUser; records from
	// before schema_version 2 hold user tokens.
	TokenKind string `json:"token_kind,omitempty"`

	ExpiresAt       time.Time `json:"expires_at"` // zero: unknown
	IssuedAt        time.Time `json:"issued_at"`  // zero: unknown
	RegisteredAt    time.Time `json:"registered_at"`
	LastRefreshedAt time.Time `json:"last_refreshed_at"`

	Status              string    `json:"status"`
	RetryAt             time.Time `json:"retry_at"`
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at"`
	ConsecutiveFailures int       `json:"consecutive_failures"`

	// Facebook Login only. AccessToken (above) is the token served: the
	// Page token when PageID is set, else the long-lived user token, which
	// UserAccessToken always holds (the Page token is derived from it, and
	// a pages listing or a later page_id choice needs it). ExpiresAt is the
	// served token's expiry: zero for a Page token, which does not expire.
	UserAccessToken     string    `json:"user_access_token,omitempty"`
	UserTokenExpiresAt  time.Time `json:"user_token_expires_at"`
	PageID              string    `json:"page_id,omitempty"`
	PageName            string    `json:"page_name,omitempty"`
	InstagramUserID     string    `json:"instagram_user_id,omitempty"`
	DataAccessExpiresAt time.Time `json:"data_access_expires_at"`
	// LastCheckedAt is the last debug_token health check (registration
	// included); the next one is due an hour and a per-account offset later.
	LastCheckedAt time.Time `json:"last_checked_at"`

	// Not stored (notify_events.go): savedStatus is the status of the
	// stored record this one was read from or replaces ("" for a new
	// account), so that saving it knows which status change it makes;
	// notifyAs is the event a transition asks for in place of the one
	// the status change makes (markDeauthorized).
	savedStatus string
	notifyAs    notify.Type
}

func (a *account) clone() *account {
	c := *a
	c.Scopes = append([]string(nil), a.Scopes...)
	return &c
}

// scheduled is what the schedule keeps of a.
func (a *account) scheduled() schedule.Account {
	return schedule.Account{
		ExpiresAt:    a.ExpiresAt,
		IssuedAt:     a.IssuedAt,
		RegisteredAt: a.RegisteredAt,
		RetryAt:      a.RetryAt,
		Status:       a.Status,
		Login:        a.Login,
		CheckedAt:    a.LastCheckedAt,
		CheckOffset:  schedule.CheckOffset(a.Name),
		Owners:       [2]uint64{schedule.OwnerHash(a.UserID), schedule.OwnerHash(a.AppScopedID)},
		Scopes:       a.Scopes,
	}
}

// expired reports whether the token is past its known expiry.
func (a *account) expired(now time.Time) bool { return schedule.Expired(a.ExpiresAt, now) }

// getAccount returns the account, from the cache when possible; nil when no
// such account is stored. Reads take no account lock: a refresh holds that
// lock across its call to Meta, and a slow Meta must never slow a read.
func (b *backend) getAccount(ctx context.Context, s logical.Storage, name string) (*account, error) {
	if a, ok := b.cache.get(name); ok {
		return a, nil
	}
	gen := b.cache.generation()
	a, err := loadAccount(ctx, s, name)
	if err != nil || a == nil {
		return nil, err
	}
	b.cache.fill(name, a, gen)
	return a, nil
}

// loadAccount reads an account straight from storage.
func loadAccount(ctx context.Context, s logical.Storage, name string) (*account, error) {
	entry, err := s.Get(ctx, accountStoragePrefix+name)
	if err != nil {
		return nil, fmt.Errorf("reading account %q: %w", name, err)
	}
	if entry == nil {
		return nil, nil
	}
	a := &account{}
	if err := entry.DecodeJSON(a); err != nil {
		return nil, fmt.Errorf("decoding account %q: %w", name, err)
	}
	migrateAccount(a) // migrate.go
	a.savedStatus = a.Status
	return a, nil
}

// saveAccount stores the account and updates the cache and the schedule.
// The caller holds the account's write lock.
//
// The schedule index record goes first, the account second (schedule_index.go): a
// crash between the two leaves a pending record, which the next start
// makes due at once, and never an account the index does not know.
func (b *backend) saveAccount(ctx context.Context, s logical.Storage, a *account) error {
	a.SchemaVersion = accountSchemaVersion
	entry, err := logical.StorageEntryJSON(accountStoragePrefix+a.Name, a)
	if err != nil {
		return err
	}
	// A status change's event is stored before the change (notify_events.go).
	ev, err := b.stageAccountEvent(ctx, s, a)
	if err != nil {
		return err
	}
	t := a.scheduled()
	if err := b.announceIndex(ctx, s, a.Name, t); err != nil {
		b.withdrawEvent(ctx, s, ev)
		return err
	}
	if b.crashPoint != nil {
		b.crashPoint(b.Logger(), crashAfterIndexWrite, a.Name)
	}
	if err := s.Put(ctx, entry); err != nil {
		b.settleIndex(a.Name, t, false)
		b.withdrawEvent(ctx, s, ev)
		return fmt.Errorf("writing account %q: %w", a.Name, err)
	}
	if b.crashPoint != nil {
		b.crashPoint(b.Logger(), crashAfterAccountWrite, a.Name)
	}
	a.savedStatus, a.notifyAs = a.Status, ""
	b.cache.update(a.Name, a)
	b.sched.Set(a.Name, t)
	b.settleIndex(a.Name, t, true)
	b.publishEvent(ctx, s, ev)
	return nil
}

// deleteAccount removes the account everywhere. The caller holds its lock.
// The account goes first, its schedule index record second (schedule_index.go): a
// crash between the two leaves a record without an account, which the
// periodic work forgets when it finds the account gone.
func (b *backend) deleteAccount(ctx context.Context, s logical.Storage, name string) error {
	ev, err := b.stageDeletedEvent(ctx, s, name) // notify_events.go
	if err != nil {
		return err
	}
	if err := s.Delete(ctx, accountStoragePrefix+name); err != nil {
		b.withdrawEvent(ctx, s, ev)
		return fmt.Errorf("deleting account %q: %w", name, err)
	}
	b.publishEvent(ctx, s, ev)
	b.cache.drop(name)
	_, known := b.sched.AccountOf(name)
	b.sched.Remove(name)
	if !known && b.sched.Built() {
		// Memory holds every record of the index: there is none to drop.
		return nil
	}
	return b.dropFromIndex(ctx, s, name)
}

// accountCache keeps decoded accounts in memory so token reads need no
// storage round trip. Writes on this node update it; Invalidate drops entries
// written elsewhere.
//
// A read that missed fills the cache only if no write happened since it
// started reading storage (gen): otherwise a stale record read just before a
// concurrent write could overwrite the newer one.
type accountCache struct {
	mu  sync.RWMutex
	m   map[string]*account
	gen uint64
}

func (c *accountCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *accountCache) fill(name string, a *account, gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.m[name] = a
	}
	c.mu.Unlock()
}

func newAccountCache() *accountCache {
	return &accountCache{m: make(map[string]*account)}
}

func (c *accountCache) get(name string) (*account, bool) {
	c.mu.RLock()
	a, ok := c.m[name]
	c.mu.RUnlock()
	return a, ok
}

// update replaces a cached record after a write; an account nobody has
// read stays out of the cache. Registering many accounts would otherwise hold
// every one in memory (about 1 KiB each) whether applications read them or
// not: the cache holds what is read.
func (c *accountCache) update(name string, a *account) {
	c.mu.Lock()
	if _, ok := c.m[name]; ok {
		c.m[name] = a
	}
	c.gen++
	c.mu.Unlock()
}

func (c *accountCache) drop(name string) {
	c.mu.Lock()
	delete(c.m, name)
	c.gen++
	c.mu.Unlock()
}

// updateAccount is how a stored account changes: under the account's lock
// (so no refresh, registration or callback of it runs meanwhile), change
// gets the record as stored, nil when there is none, and returns the record
// to save: a clone it changed (records are shared with the cache and must
// not be changed in place), or the stored record or nil to save nothing.
// The record returned is saved even when change also returns an error (a
// failure recorded on the account); updateAccount then answers the saved
// record, or the stored one, and change's error. A failed save answers the
// stored record and the save's error.
func (b *backend) updateAccount(ctx context.Context, s logical.Storage, name string, change func(stored *account) (*account, error)) (*account, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	stored, err := loadAccount(ctx, s, name)
	if err != nil {
		return nil, err
	}
	next, err := change(stored)
	if next == nil || next == stored {
		return stored, err
	}
	if stored != nil {
		// A new record replacing the stored one (a re-authorization)
		// changes the stored status as a clone would (notify_events.go).
		next.savedStatus = stored.Status
	}
	if serr := b.saveAccount(ctx, s, next); serr != nil {
		return stored, serr
	}
	return next, err
}
