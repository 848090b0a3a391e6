package instagram

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

const (
	configStoragePath = "config"

	// Instagram long-lived tokens live 60 days; a refresh is allowed once a
	// token is 24 hours old.
	longLivedLifetime = 60 * 24 * time.Hour
	minTokenAge       = schedule.MinTokenAge

	defaultRefreshWindow      = 30 * 24 * time.Hour
	defaultRequestTimeout     = 10 * time.Second
	defaultRefreshConcurrency = 4
	maxRefreshConcurrency     = 256
	defaultGraphAPIVersion    = "v25.0"

	// A token read's ttl is how long a client may keep the token before
	// reading again. Capped so that a manual refresh or a re-registration
	// reaches Vault Agent templates within the hour by default.
	defaultMaxTokenTTL = time.Hour

	// A pending authorization state lives long enough for the account
	// owner to log in and consent; a day at most, so forgotten ones go.
	defaultStateTTL = 15 * time.Minute
	maxStateTTL     = 24 * time.Hour

	// At most this many authorization states are pending at once (each is
	// an auth-url call not yet used or expired): whoever may write
	// auth-url cannot fill storage, nor make the periodic sweep long.
	defaultMaxPendingStates = 10000
	maxMaxPendingStates     = 1000000

	// Meta delivers deauthorize and data-deletion callbacks at once; an
	// older signed_request is a replay, not a late delivery.
	defaultSignedRequestMaxAge = time.Hour
	maxSignedRequestMaxAge     = 24 * time.Hour
)

// config is the stored Meta app configuration. AppSecret never leaves the
// backend: reads answer app_secret_set instead.
type config struct {
	// SchemaVersion is the format the record was written in (migrate.go).
	SchemaVersion int `json:"schema_version"`

	AppID       string   `json:"app_id"`
	AppSecret   string   `json:"app_secret"`
	Login       string   `json:"login"`
	RedirectURI string   `json:"redirect_uri"`
	Scopes      []string `json:"scopes"`
	// FacebookConfigID is a Facebook Login for Business configuration
	// (login=facebook only): auth-url's dialog carries it instead of
	// scopes. See login_business.go.
	FacebookConfigID string `json:"facebook_config_id,omitempty"`
	// AllowedConfigIDs are the configurations auth-url may show; empty:
	// any (config_ids.go).
	AllowedConfigIDs []string      `json:"allowed_config_ids,omitempty"`
	GraphAPIVersion  string        `json:"graph_api_version"`
	RefreshWindow    time.Duration `json:"refresh_window"`
	RequestTimeout   time.Duration `json:"request_timeout"`
	// RefreshConcurrency bounds how many refreshes run at once, and so how
	// many calls this mount makes to Meta at once.
	RefreshConcurrency int `json:"refresh_concurrency"`
	// MaxTokenTTL caps the ttl token/<name> reports.
	MaxTokenTTL time.Duration `json:"max_token_ttl"`

	// AllowedRedirectURIs are redirect URIs auth-url accepts besides
	// RedirectURI (another address of the same Vault, say).
	AllowedRedirectURIs []string      `json:"allowed_redirect_uris"`
	StateTTL            time.Duration `json:"state_ttl"`
	// MaxPendingStates caps the pending authorization states (pending_states.go).
	MaxPendingStates    int           `json:"max_pending_states"`
	SignedRequestMaxAge time.Duration `json:"signed_request_max_age"`
	// DeletionRecordTTL is how long a data deletion's status record is
	// kept (signed_request_records.go).
	DeletionRecordTTL time.Duration `json:"deletion_record_ttl"`
	// PublicURL is the mount's public address, for the status URL a
	// data-deletion request answers; empty: RedirectURI without /callback.
	PublicURL string `json:"public_url"`

	AuthBaseURL          string `json:"auth_base_url"`
	APIBaseURL           string `json:"api_base_url"`
	GraphBaseURL         string `json:"graph_base_url"`
	FacebookAuthBaseURL  string `json:"facebook_auth_base_url"`
	FacebookGraphBaseURL string `json:"facebook_graph_base_url"`
	ThreadsAuthBaseURL   string `json:"threads_auth_base_url"`
	ThreadsGraphBaseURL  string `json:"threads_graph_base_url"`

	// Notifications (path_config_notify.go): where signed events go, the
	// key that signs them (write-only), and whether needs_reauth events
	// carry a consent link. An empty NotifyURL sends no webhook.
	NotifyURL         string `json:"notify_url,omitempty"`
	NotifySecret      string `json:"notify_secret,omitempty"`
	NotifyReauthLinks bool   `json:"notify_reauth_links,omitempty"`
}

func defaultConfig() *config {
	ep := graph.DefaultEndpoints()
	return &config{
		Login:                defaultLoginName,
		Scopes:               append([]string(nil), loginNamed(defaultLoginName).defaultScopes()...),
		GraphAPIVersion:      defaultGraphAPIVersion,
		RefreshWindow:        defaultRefreshWindow,
		RequestTimeout:       defaultRequestTimeout,
		RefreshConcurrency:   defaultRefreshConcurrency,
		MaxTokenTTL:          defaultMaxTokenTTL,
		StateTTL:             defaultStateTTL,
		MaxPendingStates:     defaultMaxPendingStates,
		SignedRequestMaxAge:  defaultSignedRequestMaxAge,
		DeletionRecordTTL:    defaultDeletionRecordTTL,
		AuthBaseURL:          ep.AuthBaseURL,
		APIBaseURL:           ep.APIBaseURL,
		GraphBaseURL:         ep.GraphBaseURL,
		FacebookAuthBaseURL:  ep.FacebookAuthBaseURL,
		FacebookGraphBaseURL: ep.FacebookGraphBaseURL,
		ThreadsAuthBaseURL:   ep.ThreadsAuthBaseURL,
		ThreadsGraphBaseURL:  ep.ThreadsGraphBaseURL,
	}
}

func (c *config) endpoints() graph.Endpoints {
	return graph.Endpoints{
		AuthBaseURL:          c.AuthBaseURL,
		APIBaseURL:           c.APIBaseURL,
		GraphBaseURL:         c.GraphBaseURL,
		FacebookAuthBaseURL:  c.FacebookAuthBaseURL,
		FacebookGraphBaseURL: c.FacebookGraphBaseURL,
		ThreadsAuthBaseURL:   c.ThreadsAuthBaseURL,
		ThreadsGraphBaseURL:  c.ThreadsGraphBaseURL,
		Version:              c.GraphAPIVersion,
	}
}

// readConfig returns the decoded config (nil when none is stored), cached
// until a write, a delete or an invalidation.
//
// A read that missed caches what it read only if no write, delete or
// invalidation happened since it started reading storage (configGen):
// otherwise what it read may be older than what the change left, and
// caching it would serve a stale or deleted config until the next change.
func (b *backend) readConfig(ctx context.Context, s logical.Storage) (*config, error) {
	b.configMu.RLock()
	cfg, gen := b.config, b.configGen
	b.configMu.RUnlock()
	if cfg != nil {
		return cfg, nil
	}

	entry, err := s.Get(ctx, configStoragePath)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if entry == nil {
		return nil, nil
	}
	cfg = defaultConfig()
	if err := entry.DecodeJSON(cfg); err != nil {
		return nil, fmt.Errorf("decoding config: %w", err)
	}
	migrateConfig(cfg) // migrate.go
	if err := b.baseURLError(cfg); err != nil {
		// Once a read from storage: metaFor refuses every call, and status
		// reports it, until config is written again.
		b.Logger().Error("config: a stored base URL is refused; nothing is sent to Meta until config is written again", "error", err)
	}

	b.configMu.Lock()
	if b.configGen == gen {
		b.config = cfg
		b.meta = nil
		// Under configMu, like writeConfig's, so the schedule's scopes
		// are those of the config cached last, not of a read that lost.
		b.sched.SetWantedScopes(cfg.Scopes)
	}
	b.configMu.Unlock()
	return cfg, nil
}

// cachedConfig is the decoded config if one has been read, without going to
// storage (nil otherwise): for metrics, whose handler reads it first.
func (b *backend) cachedConfig() *config {
	b.configMu.RLock()
	defer b.configMu.RUnlock()
	return b.config
}

// writeConfig stores cfg and caches it. Config writes and deletes are
// serialised by configWriteMu (held by their handlers), so two writes
// cannot cache in the other order than they stored.
func (b *backend) writeConfig(ctx context.Context, s logical.Storage, cfg *config) error {
	cfg.SchemaVersion = configSchemaVersion
	entry, err := logical.StorageEntryJSON(configStoragePath, cfg)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, entry); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	b.configMu.Lock()
	b.config = cfg
	b.meta = nil
	b.configGen++
	b.sched.SetWantedScopes(cfg.Scopes)
	b.configMu.Unlock()
	return nil
}

// resetConfig drops the cached config (a delete, an invalidation), and
// keeps a read that started before from caching what it read.
func (b *backend) resetConfig() {
	b.configMu.Lock()
	b.config = nil
	b.meta = nil
	b.configGen++
	b.configMu.Unlock()
}

// metaFor returns the Meta client for the stored config, or a 400-worthy
// error when no config is stored.
func (b *backend) metaFor(ctx context.Context, s logical.Storage) (metaClient, *config, error) {
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, errNotConfigured
	}
	// A client is cached only for a config that passed the base-URL rule,
	// and the rule is a function of the config and the plugin's
	// environment alone, neither of which changes under a cached client:
	// every proxied call comes here, and the check's URL parsing was a
	// tenth of the plugin's own time on one (BENCHMARKS.md).
	b.configMu.RLock()
	m := b.meta
	cached := b.config == cfg && m != nil
	b.configMu.RUnlock()
	if cached {
		return m, cfg, nil
	}
	if err := b.baseURLError(cfg); err != nil {
		return nil, nil, err
	}
	b.configMu.Lock()
	defer b.configMu.Unlock()
	if b.config == cfg && b.meta != nil {
		return b.meta, cfg, nil
	}
	m = graph.New(graph.Config{
		AppID:      cfg.AppID,
		AppSecret:  cfg.AppSecret,
		Endpoints:  cfg.endpoints(),
		HTTPClient: b.httpClient,
		UserAgent:  b.userAgent(ctx),
		Observer:   metaObserver{b},
		Now:        b.clock.Now,
	})
	// Cache the client only if the config it was built from is still the
	// current one: a concurrent write may have replaced it meanwhile.
	if b.config == cfg {
		b.meta = m
	}
	return m, cfg, nil
}

// redirectAllowed reports whether uri is one the engine may send account
// owners back to: config's redirect_uri or one of allowed_redirect_uris,
// compared exactly, as Meta compares them.
func (c *config) redirectAllowed(uri string) bool {
	if uri == "" {
		return false
	}
	if uri == c.RedirectURI {
		return true
	}
	for _, u := range c.AllowedRedirectURIs {
		if uri == u {
			return true
		}
	}
	return false
}

// publicMountURL is the mount's public address (https://vault.example.com/v1/instagram):
// public_url, or else redirect_uri without its trailing /callback; "" when
// neither says.
func (c *config) publicMountURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	if base, ok := strings.CutSuffix(strings.TrimRight(c.RedirectURI, "/"), "/callback"); ok && base != "" {
		return base
	}
	return ""
}
