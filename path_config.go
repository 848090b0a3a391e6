package instagram

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const operationPrefix = "instagram"

const pathConfigHelpSyn = `Configure the Meta app whose Instagram tokens this engine manages.`

const pathConfigHelpDesc = `
The Meta app's credentials (app_id, app_secret), the login product, the
redirect URI registered in Meta's dashboard, the default scopes, and how the
engine refreshes tokens. app_secret is write-only: reads answer app_secret_set.
The *_base_url fields point the engine at another host for each of Meta's
services (tests, proxies, mirrors); leave them unset in production. An
empty value (api_base_url=) puts a field back to Meta's host.
`

func configFields() map[string]*framework.FieldSchema {
	f := map[string]*framework.FieldSchema{
		"app_id": {
			Type:        framework.TypeString,
			Description: "The Instagram app ID (Instagram Login), Meta app ID (Facebook Login) or Threads app ID (login=threads). Required on first write.",
		},
		"app_secret": {
			Type:         framework.TypeString,
			Description:  "The app secret. Write-only: never returned by a read. Required on first write.",
			DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
		},
		"login": {
			Type:          framework.TypeString,
			Description:   `The login product: "instagram" (Instagram API with Instagram Login), "facebook" (Instagram API with Facebook Login) or "threads" (the Threads API).`,
			Default:       defaultLoginName,
			AllowedValues: loginNames(),
		},
		"redirect_uri": {
			Type:        framework.TypeString,
			Description: "The OAuth redirect URI registered for the app. Codes are exchanged with exactly this URI.",
		},
		"scopes": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Default scopes requested by auth-url. Default instagram_business_basic under login=instagram; instagram_basic,pages_show_list,pages_read_engagement under login=facebook; threads_basic under login=threads, which takes Threads permissions only, threads_basic among them (switched along with login while left at the other's default).",
			Default:     strings.Join(loginNamed(defaultLoginName).defaultScopes(), ","),
		},
		"facebook_config_id": {
			Type:        framework.TypeString,
			Description: "login=facebook only: the ID of a Facebook Login for Business configuration (App Dashboard > Facebook Login for Business > Configurations). auth-url's dialog then carries config_id instead of scopes, and the configuration decides the permissions and the kind of token (user or system user). Empty: classic Facebook Login with scopes.",
		},
		"allowed_config_ids": allowedConfigIDsField(),
		"graph_api_version": {
			Type:        framework.TypeString,
			Description: "The Graph API version used on versioned endpoints, such as v25.0.",
			Default:     defaultGraphAPIVersion,
		},
		"refresh_window": {
			Type:        framework.TypeDurationSecond,
			Description: "Refresh a token once it expires within this long. Less than 60 days.",
			Default:     int(defaultRefreshWindow / time.Second),
		},
		"request_timeout": {
			Type:        framework.TypeDurationSecond,
			Description: "Deadline for each call to Meta.",
			Default:     int(defaultRequestTimeout / time.Second),
		},
		"refresh_concurrency": {
			Type:        framework.TypeInt,
			Description: "How many refreshes run at once (and so the most calls this mount makes to Meta at once).",
			Default:     defaultRefreshConcurrency,
		},
		"max_token_ttl": {
			Type:        framework.TypeDurationSecond,
			Description: "The longest ttl a token read reports, so Vault Agent re-reads at least this often and picks up manual refreshes and re-registrations. At least 30 seconds.",
			Default:     int(defaultMaxTokenTTL / time.Second),
		},
		"allowed_redirect_uris": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Further redirect URIs auth-url accepts besides redirect_uri, each registered in Meta's dashboard too.",
		},
		"state_ttl": {
			Type:        framework.TypeDurationSecond,
			Description: "How long an authorization URL from auth-url stays usable. At most 24 hours.",
			Default:     int(defaultStateTTL / time.Second),
		},
		"max_pending_states": {
			Type:        framework.TypeInt,
			Description: "The most authorization states (auth-url links not yet used or expired) pending at once; auth-url answers 429 beyond it. At most 1,000,000.",
			Default:     defaultMaxPendingStates,
		},
		"signed_request_max_age": {
			Type:        framework.TypeDurationSecond,
			Description: "How old a signed_request on deauthorize or data-deletion may be (by its issued_at) before it is refused as a replay. At most 24 hours.",
			Default:     int(defaultSignedRequestMaxAge / time.Second),
		},
		"deletion_record_ttl": {
			Type:        framework.TypeDurationSecond,
			Description: "How long a data deletion's status (data-deletion/<code>) is kept before the periodic work deletes it. At least 24 hours, at most 3650 days.",
			Default:     int(defaultDeletionRecordTTL / time.Second),
		},
		"public_url": {
			Type:        framework.TypeString,
			Description: "The mount's public URL, such as https://vault.example.com/v1/instagram, for the status URL data-deletion answers. Default: redirect_uri without its trailing /callback.",
		},
		"auth_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Instagram authorization dialog host.",
			Default:     "https://www.instagram.com",
		},
		"api_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Instagram code-exchange host.",
			Default:     "https://api.instagram.com",
		},
		"graph_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Instagram Graph host (token exchange, refresh, /me).",
			Default:     "https://graph.instagram.com",
		},
		"facebook_auth_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Facebook login dialog host.",
			Default:     "https://www.facebook.com",
		},
		"facebook_graph_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Facebook Graph host.",
			Default:     "https://graph.facebook.com",
		},
		"threads_auth_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Threads authorization dialog host (login=threads).",
			Default:     "https://threads.net",
		},
		"threads_graph_base_url": {
			Type:        framework.TypeString,
			Description: "Base URL of the Threads Graph host (login=threads: code exchange, th_exchange_token, th_refresh_token, /me, proxy/).",
			Default:     "https://graph.threads.net",
		},
	}
	maps.Copy(f, notifyConfigFields()) // path_config_notify.go
	return f
}

// configWriteResponses: a write answers nothing, or only warnings (a
// retired scope name still in the stored scopes), which Vault sends as a
// 200 without data.
func configWriteResponses() map[int][]framework.Response {
	return map[int][]framework.Response{
		http.StatusNoContent: {{Description: "Stored. The answer is a 200 carrying only warnings when a base URL given points at a host that is neither Meta's nor loopback (one warning naming each such field), or the stored scopes still hold a scope name Meta retired (a warning naming the current one)."}},
	}
}

func configResponseFields() map[string]*framework.FieldSchema {
	f := configFields()
	delete(f, "app_secret")
	f["app_secret_set"] = &framework.FieldSchema{
		Type:        framework.TypeBool,
		Description: "Whether an app secret is stored.",
	}
	notifyResponseFields(f)
	return f
}

func pathConfig(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "config$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
		},
		Fields:         configFields(),
		ExistenceCheck: b.configExists,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:     b.pathConfigRead,
				Summary:      "Read the Meta app configuration (never the secret).",
				Description:  "Answers every setting with its effective value. The app secret is never returned: app_secret_set says whether one is stored.",
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read", OperationSuffix: "configuration"},
				Responses: map[int][]framework.Response{
					http.StatusOK: {{Description: "OK", Fields: configResponseFields()}},
				},
			},
			logical.CreateOperation: &framework.PathOperation{
				Callback:     b.pathConfigWrite,
				Summary:      "Configure the Meta app.",
				Description:  "Stores the Meta app's credentials and settings; app_id and app_secret are required on the first write, every other field has a default.",
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "configure"},
				Responses:    configWriteResponses(),
			},
			logical.UpdateOperation: &framework.PathOperation{
				Callback:     b.pathConfigWrite,
				Summary:      "Update the Meta app configuration; fields not given keep their values.",
				Description:  "Changes only the fields given. Changing refresh_window reschedules every account at once.",
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "configure"},
				Responses:    configWriteResponses(),
			},
			logical.DeleteOperation: &framework.PathOperation{
				Callback:     b.pathConfigDelete,
				Summary:      "Delete the Meta app configuration. Accounts stay stored but are not refreshed until a config exists again.",
				Description:  "Removes the app's credentials and settings. Accounts and their tokens stay stored and readable, but nothing is refreshed until a config is written again.",
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "delete", OperationSuffix: "configuration"},
				Responses:    map[int][]framework.Response{http.StatusNoContent: {{Description: "No Content"}}},
			},
		},
		HelpSynopsis:    pathConfigHelpSyn,
		HelpDescription: pathConfigHelpDesc,
	}}
}

func (b *backend) configExists(ctx context.Context, req *logical.Request, _ *framework.FieldData) (bool, error) {
	cfg, err := b.readConfig(ctx, req.Storage)
	return cfg != nil, err
}

func (b *backend) pathConfigRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := b.readConfig(ctx, req.Storage)
	if err != nil || cfg == nil {
		return nil, err
	}
	resp := &logical.Response{Data: map[string]any{
		"app_id":                  cfg.AppID,
		"app_secret_set":          cfg.AppSecret != "",
		"login":                   cfg.Login,
		"redirect_uri":            cfg.RedirectURI,
		"scopes":                  cfg.Scopes,
		"facebook_config_id":      cfg.FacebookConfigID,
		"allowed_config_ids":      nonNil(cfg.AllowedConfigIDs),
		"graph_api_version":       cfg.GraphAPIVersion,
		"refresh_window":          int64(cfg.RefreshWindow / time.Second),
		"request_timeout":         int64(cfg.RequestTimeout / time.Second),
		"refresh_concurrency":     cfg.RefreshConcurrency,
		"max_token_ttl":           int64(cfg.MaxTokenTTL / time.Second),
		"allowed_redirect_uris":   nonNil(cfg.AllowedRedirectURIs),
		"state_ttl":               int64(cfg.StateTTL / time.Second),
		"max_pending_states":      cfg.MaxPendingStates,
		"signed_request_max_age":  int64(cfg.SignedRequestMaxAge / time.Second),
		"deletion_record_ttl":     int64(cfg.DeletionRecordTTL / time.Second),
		"public_url":              cfg.PublicURL,
		"auth_base_url":           cfg.AuthBaseURL,
		"api_base_url":            cfg.APIBaseURL,
		"graph_base_url":          cfg.GraphBaseURL,
		"facebook_auth_base_url":  cfg.FacebookAuthBaseURL,
		"facebook_graph_base_url": cfg.FacebookGraphBaseURL,
		"threads_auth_base_url":   cfg.ThreadsAuthBaseURL,
		"threads_graph_base_url":  cfg.ThreadsGraphBaseURL,
	}}
	maps.Copy(resp.Data, notifyConfigRead(cfg))
	if w := retiredScopesWarning(cfg); w != "" {
		resp.AddWarning(w)
	}
	b.warnGraphVersion(resp, cfg)
	return resp, nil
}

func (b *backend) pathConfigWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	b.configWriteMu.Lock()
	defer b.configWriteMu.Unlock()
	stored, err := b.readConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	// Work on a copy: nothing stored changes unless every field is valid.
	cfg := defaultConfig()
	if stored != nil {
		c := *stored
		c.Scopes = append([]string(nil), stored.Scopes...)
		c.AllowedRedirectURIs = append([]string(nil), stored.AllowedRedirectURIs...)
		c.AllowedConfigIDs = append([]string(nil), stored.AllowedConfigIDs...)
		cfg = &c
	}
	prevLogin := cfg.Login
	applyConfigFields(cfg, d)
	defaultEmptyBaseURLs(cfg, d)
	switchDefaultScopes(cfg, prevLogin, d)
	if err := validateConfig(cfg); err != nil {
		return respondErr(err)
	}
	if err := b.pinnedBaseURLError(cfg); err != nil { // pin_base_urls.go
		return respondErr(err)
	}
	// Retired scope names are refused where a write gives them; a stored
	// config that still holds one (from a version that accepted them) can
	// have its other fields changed, with a warning, so that an urgent
	// change such as a new app secret is never held up by it.
	if v, ok := d.GetOk("scopes"); ok {
		if err := checkScopes("scopes", loginFor(cfg), cleanScopes(v.([]string))); err != nil {
			return respondErr(err)
		}
	} else if prevLogin != cfg.Login {
		// The scopes kept are another login's: refused if the new
		// login's dialog would refuse them (loginScopeError).
		if err := loginScopeError("scopes", loginFor(cfg), cfg.Scopes); err != nil {
			return respondErr(err)
		}
	}

	rescheduled := stored == nil || stored.RefreshWindow != cfg.RefreshWindow
	if err := b.writeConfig(ctx, req.Storage, cfg); err != nil {
		return nil, err
	}
	if rescheduled {
		// Due times depend on the refresh window: move every account now
		// rather than at its old due time.
		b.sched.Reschedule(cfg.RefreshWindow)
	}
	resp := &logical.Response{}
	b.warnForeignBaseURLs(resp, cfg, d)
	if w := retiredScopesWarning(cfg); w != "" {
		resp.AddWarning(w)
	}
	b.warnGraphVersion(resp, cfg)
	if len(resp.Warnings) > 0 {
		return resp, nil
	}
	return nil, nil
}

// applyConfigFields copies the fields present in the request onto cfg.
func applyConfigFields(cfg *config, d *framework.FieldData) {
	strField := func(name string, dst *string) {
		if v, ok := d.GetOk(name); ok {
			*dst = strings.TrimSpace(v.(string))
		}
	}
	strField("app_id", &cfg.AppID)
	strField("login", &cfg.Login)
	strField("redirect_uri", &cfg.RedirectURI)
	strField("facebook_config_id", &cfg.FacebookConfigID)
	strField("public_url", &cfg.PublicURL)
	strField("graph_api_version", &cfg.GraphAPIVersion)
	strField("auth_base_url", &cfg.AuthBaseURL)
	strField("api_base_url", &cfg.APIBaseURL)
	strField("graph_base_url", &cfg.GraphBaseURL)
	strField("facebook_auth_base_url", &cfg.FacebookAuthBaseURL)
	strField("facebook_graph_base_url", &cfg.FacebookGraphBaseURL)
	applyNotifyConfigFields(cfg, d)
	strField("threads_auth_base_url", &cfg.ThreadsAuthBaseURL)
	strField("threads_graph_base_url", &cfg.ThreadsGraphBaseURL)
	if v, ok := d.GetOk("app_secret"); ok {
		// Secrets are taken as given: surrounding spaces may be part of
		// nothing real, but trimming silently could hide a paste error.
		cfg.AppSecret = v.(string)
	}
	if v, ok := d.GetOk("scopes"); ok {
		cfg.Scopes = cleanScopes(v.([]string))
	}
	if v, ok := d.GetOk("refresh_window"); ok {
		cfg.RefreshWindow = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("request_timeout"); ok {
		cfg.RequestTimeout = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("refresh_concurrency"); ok {
		cfg.RefreshConcurrency = v.(int)
	}
	if v, ok := d.GetOk("max_token_ttl"); ok {
		cfg.MaxTokenTTL = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("allowed_redirect_uris"); ok {
		cfg.AllowedRedirectURIs = cleanScopes(v.([]string)) // trims, drops empties and duplicates
	}
	if v, ok := d.GetOk("state_ttl"); ok {
		cfg.StateTTL = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("max_pending_states"); ok {
		cfg.MaxPendingStates = v.(int)
	}
	if v, ok := d.GetOk("signed_request_max_age"); ok {
		cfg.SignedRequestMaxAge = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("deletion_record_ttl"); ok {
		cfg.DeletionRecordTTL = time.Duration(v.(int)) * time.Second
	}
	applyAllowedConfigIDs(cfg, d)
}

func validateConfig(cfg *config) error {
	if cfg.AppID == "" {
		return badField("app_id", "is required")
	}
	if cfg.AppSecret == "" {
		return badField("app_secret", "is required")
	}
	if strings.ContainsAny(cfg.AppID, " \t\r\n/?#&") {
		return badField("app_id", "must be the app's numeric ID")
	}
	if !knownLogin(cfg.Login) {
		return badField("login", "must be one of %s", quotedLoginNames())
	}
	if cfg.RedirectURI != "" {
		if err := checkURL("redirect_uri", cfg.RedirectURI); err != nil {
			return err
		}
	}
	if !graphVersionRegex.MatchString(cfg.GraphAPIVersion) {
		return badField("graph_api_version", "must look like v25.0")
	}
	if cfg.RefreshWindow <= 0 {
		return badField("refresh_window", "must be positive")
	}
	if cfg.RefreshWindow >= longLivedLifetime-minTokenAge {
		return badField("refresh_window", "must be less than 59 days: a token can only be refreshed once it is 24 hours old, and it lives 60 days")
	}
	if cfg.RequestTimeout <= 0 {
		return badField("request_timeout", "must be positive")
	}
	if cfg.RequestTimeout > 5*time.Minute {
		return badField("request_timeout", "must be at most 5 minutes")
	}
	if cfg.MaxTokenTTL < minTokenTTL {
		return badField("max_token_ttl", "must be at least %d seconds", int(minTokenTTL/time.Second))
	}
	if cfg.RefreshConcurrency < 1 || cfg.RefreshConcurrency > maxRefreshConcurrency {
		return badField("refresh_concurrency", "must be between 1 and %d", maxRefreshConcurrency)
	}
	for _, f := range cfg.baseURLFields() {
		if _, err := checkBaseURL(f.name, *f.value); err != nil {
			return err
		}
	}
	for _, s := range cfg.Scopes {
		if !scopeRegex.MatchString(s) {
			return badField("scopes", "%q is not a scope name", s)
		}
	}
	if err := checkFacebookConfigID(cfg); err != nil {
		return err
	}
	if err := checkAllowedConfigIDs(cfg); err != nil {
		return err
	}
	if err := validateNotifyConfig(cfg); err != nil {
		return err
	}
	return validateAuthFlowConfig(cfg)
}

// validateAuthFlowConfig checks the fields of the in-Vault authorization
// flow and Meta's callbacks.
func validateAuthFlowConfig(cfg *config) error {
	for _, u := range cfg.AllowedRedirectURIs {
		if err := checkURL("allowed_redirect_uris", u); err != nil {
			return err
		}
	}
	if cfg.StateTTL <= 0 || cfg.StateTTL > maxStateTTL {
		return badField("state_ttl", "must be positive and at most 24 hours")
	}
	if cfg.MaxPendingStates < 1 || cfg.MaxPendingStates > maxMaxPendingStates {
		return badField("max_pending_states", "must be at least 1 and at most %d", maxMaxPendingStates)
	}
	if cfg.SignedRequestMaxAge <= 0 || cfg.SignedRequestMaxAge > maxSignedRequestMaxAge {
		return badField("signed_request_max_age", "must be positive and at most 24 hours")
	}
	if cfg.DeletionRecordTTL < minDeletionRecordTTL || cfg.DeletionRecordTTL > maxDeletionRecordTTL {
		// At least as long as a replayed request, answered the same
		// code, can arrive.
		return badField("deletion_record_ttl", "must be at least 24 hours and at most 3650 days")
	}
	if cfg.PublicURL != "" {
		if err := checkURL("public_url", cfg.PublicURL); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) pathConfigDelete(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	b.configWriteMu.Lock()
	defer b.configWriteMu.Unlock()
	if err := req.Storage.Delete(ctx, configStoragePath); err != nil {
		return nil, err
	}
	b.resetConfig()
	b.sched.SetWantedScopes(nil) // no config, no scopes to miss
	return nil, nil
}
