package instagram

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/logical"
)

// reauthLinkTTL is how long the consent link of an account.needs_reauth
// event (notify_reauth_links) stays usable: the longest any pending state
// lives, a day, rather than state_ttl (15 minutes by default). state_ttl
// times an operator who hands a link over at once; a webhook's link goes
// to an application that tells the account's owner (an e-mail, a message
// in its own UI), who acts when they read it. The link stays single-use
// and bound to the account's user; a later event brings a fresh one.
const reauthLinkTTL = maxStateTTL

// reauthLink makes the consent link a needs_reauth event carries: what
// `auth-url account=<name> replace=true` makes with config's defaults
// (redirect_uri, scopes or facebook_config_id), a pending state like
// auth-url's, stored hashed, single-use, expiring after reauthLinkTTL, that
// may replace the account only with the same user's authorization
// (replaceSameUser: allow_user_change is never given), so whoever opens it
// cannot repoint the account at their own user. It returns the link and
// its state's hash (to drop the state if the event is withdrawn). The link
// is a credential of sorts: it goes into the event and nowhere else.
func (b *backend) reauthLink(ctx context.Context, s logical.Storage, cfg *config, name string) (string, string, error) {
	if cfg.RedirectURI == "" {
		return "", "", fmt.Errorf("config has no redirect_uri")
	}
	meta, _, err := b.metaFor(ctx, s)
	if err != nil {
		return "", "", err
	}
	scopes := cfg.Scopes
	if cfg.FacebookConfigID != "" {
		scopes = nil // the configuration's permissions
	}
	if err := checkScopes("scopes", loginFor(cfg), scopes); err != nil {
		return "", "", err
	}
	value, err := newStateValue()
	if err != nil {
		return "", "", err
	}
	now := b.clock.Now()
	st := &pendingState{
		Hash:        hashState(value),
		Account:     name,
		Login:       cfg.Login,
		Scopes:      append([]string(nil), scopes...),
		RedirectURI: cfg.RedirectURI,
		Replace:     true,
		ConfigID:    cfg.FacebookConfigID,
		CreatedAt:   now,
		ExpiresAt:   now.Add(reauthLinkTTL),
	}
	// It counts against max_pending_states like any consent link: past
	// the cap the event goes out without it.
	if err := b.storeState(ctx, s, st, cfg.MaxPendingStates); err != nil {
		return "", "", err
	}
	link, _ := loginFor(cfg).authURL(meta, dialog{redirectURI: cfg.RedirectURI, scopes: scopes, state: value, configID: cfg.FacebookConfigID})
	b.Logger().Info("re-authorization link issued for a notification", "account", name, "login", cfg.Login, "expires_at", formatTime(st.ExpiresAt))
	return link, st.Hash, nil
}

// dropLinkState deletes the pending state of a consent link that will not
// be sent (its event was withdrawn or not stored).
func (b *backend) dropLinkState(ctx context.Context, s logical.Storage, hash string) {
	if hash == "" {
		return
	}
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	if err := s.Delete(ctx, stateStoragePrefix+hash); err != nil {
		b.Logger().Warn("could not delete the state of an unsent re-authorization link; it expires by itself", "error", err)
		return
	}
	b.stateGoneLocked()
}
