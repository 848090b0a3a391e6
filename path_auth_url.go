package instagram

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const pathAuthURLHelpSyn = `Build the login URL that lets an account's owner authorize it.`

const pathAuthURLHelpDesc = `
Returns "url", the Instagram login dialog for the named account, to hand to
the account's owner. Once they consent, Instagram sends their browser to the
engine's callback path, which checks the state, exchanges the code and
registers (or replaces) the account, with no operator involved.

The "state" in the URL is random, single-use and expires after config's
state_ttl (15 minutes by default): "expires_at" says when. "redirect_uri"
defaults to config's and must be it or one of allowed_redirect_uris.

With config login=facebook the URL is Facebook's login dialog
(www.facebook.com/<graph_api_version>/dialog/oauth), and the callback
registers the account with a long-lived user token; an account that served a
Page keeps serving that Page. With a Facebook Login for Business
configuration (config facebook_config_id, or config_id here) the dialog
shows that configuration instead of asking for scopes, and the callback
registers the user or system-user token it gives.
`

func pathAuthURL(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "auth-url$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
		},
		Fields: map[string]*framework.FieldSchema{
			"account": {
				Type:        framework.TypeString,
				Description: "Name of the account to register once the owner consents: letters, digits, '_', '-' and '.'.",
				Required:    true,
			},
			"scopes": {
				Type:        framework.TypeCommaStringSlice,
				Description: "Scopes to request; default: config's scopes.",
			},
			"redirect_uri": {
				Type:        framework.TypeString,
				Description: "Where Instagram sends the owner back; default: config's redirect_uri. Must be it or one of config's allowed_redirect_uris.",
			},
			"replace": {
				Type:        framework.TypeBool,
				Description: "Let the link replace an account already registered under this name (re-authorization). Without it, auth-url refuses a registered name and the callback refuses one registered meanwhile. Policies for onboarding staff can deny this parameter.",
			},
			"allow_user_change": {
				Type:        framework.TypeBool,
				Description: "With replace: let the link hand the account to another Instagram user than the one it belongs to. Without it, the callback refuses an approval by another user and leaves the account as it was. Policies for onboarding staff should deny this parameter.",
			},
			"force_reauth": {
				Type:        framework.TypeBool,
				Description: "Make Instagram ask the owner to log in again even with a session (Instagram Login only; ignored, with a warning, under login=facebook).",
			},
			"enable_fb_login": {
				Type:        framework.TypeBool,
				Description: "Instagram Login only: let the owner sign in on Instagram's dialog with the Facebook account linked to the Instagram account (true sends enable_fb_login=1, false sends 0; not given, Meta's default). Ignored, with a warning, under login=facebook.",
			},
			"config_id": {
				Type:        framework.TypeString,
				Description: "login=facebook only: the Facebook Login for Business configuration to show, overriding config's facebook_config_id. The dialog then carries config_id instead of scopes (which may not be given with it).",
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback:    b.pathAuthURLWrite,
				Summary:     "Build an authorization URL for an account's owner.",
				Description: "The state it carries is stored hashed, single-use, and expires after config's state_ttl.",
				DisplayAttrs: &framework.DisplayAttributes{
					OperationVerb:   "generate",
					OperationSuffix: "authorization-url",
				},
				// The state must be stored where the callback will look
				// for it: on the primary's active node.
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK",
					Fields: map[string]*framework.FieldSchema{
						"url": {
							Type:         framework.TypeString,
							Description:  "The login dialog URL for the account's owner to open.",
							DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
						},
						"state": {
							Type:         framework.TypeString,
							Description:  "The state the URL carries (single-use).",
							DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
						},
						"expires_at": {Type: framework.TypeTime, Description: "When the URL stops working."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathAuthURLHelpSyn,
		HelpDescription: pathAuthURLHelpDesc,
	}}
}

func (b *backend) pathAuthURLWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := strings.TrimSpace(d.Get("account").(string))
	if err := checkName(name); err != nil {
		return respondErr(renameField(err, "account"))
	}
	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	replace := d.Get("replace").(bool)
	allowUserChange := d.Get("allow_user_change").(bool)
	if allowUserChange && !replace {
		return respondErr(badField("allow_user_change", "only goes with replace=true: a link without replace cannot change a registered account"))
	}
	if !replace {
		existing, err := b.getAccount(ctx, req.Storage, name)
		if err != nil {
			return nil, err
		}
		if existing != nil {
			// Whoever reads this may hold the onboarding policy, which
			// denies replace: tell them who can make the link.
			return respondErr(badField("account", "%q is already registered; re-authorizing it takes replace=true, which an operator whose policy allows replace=true on auth-url can pass (instagram-operator does; instagram-onboarding denies it)", name))
		}
	}
	configID, err := authURLConfigID(cfg, d)
	if err != nil {
		return respondErr(err)
	}
	scopes := cfg.Scopes
	if v, ok := d.GetOk("scopes"); ok {
		if given := cleanScopes(v.([]string)); len(given) > 0 {
			if configID != "" {
				return respondErr(badField("scopes", "does not go with a Facebook Login for Business configuration (config_id %s), which fixes the permissions", configID))
			}
			scopes = given
		}
	}
	if configID != "" {
		scopes = nil // the configuration's permissions, not config's scopes
	}
	if err := checkScopes("scopes", loginFor(cfg), scopes); err != nil {
		// A retired name from config's scopes (stored by a version that
		// accepted it) is refused here too: Meta's dialog would refuse it
		// in front of the account owner.
		return respondErr(err)
	}

	redirectURI := cfg.RedirectURI
	if v := strings.TrimSpace(d.Get("redirect_uri").(string)); v != "" {
		if !cfg.redirectAllowed(v) {
			return respondErr(badField("redirect_uri", "must equal the redirect_uri in config or one of its allowed_redirect_uris"))
		}
		redirectURI = v
	}
	if redirectURI == "" {
		return respondErr(badField("redirect_uri", "is required: set redirect_uri in config to this mount's callback URL"))
	}
	dlg := dialog{redirectURI: redirectURI, scopes: scopes, configID: configID, forceReauth: d.Get("force_reauth").(bool)}
	if v, ok := d.GetOk("enable_fb_login"); ok {
		on := v.(bool)
		dlg.enableFBLogin = &on
	}

	value, err := newStateValue()
	if err != nil {
		return nil, err
	}
	now := b.clock.Now()
	st := &pendingState{
		Hash:            hashState(value),
		Account:         name,
		Login:           cfg.Login,
		Scopes:          append([]string(nil), scopes...),
		RedirectURI:     redirectURI,
		Replace:         replace,
		AllowUserChange: allowUserChange,
		ConfigID:        configID,
		CreatedAt:       now,
		ExpiresAt:       now.Add(cfg.StateTTL),
	}
	if err := b.storeState(ctx, req.Storage, st, cfg.MaxPendingStates); err != nil {
		return nil, err
	}

	resp := &logical.Response{Data: map[string]any{
		"state":      value,
		"expires_at": formatTime(st.ExpiresAt),
	}}
	dlg.state = value
	url, warnings := loginFor(cfg).authURL(meta, dlg)
	resp.Data["url"] = url
	for _, w := range warnings {
		resp.AddWarning(w)
	}
	b.Logger().Info("authorization URL issued", "account", name, "login", cfg.Login, "config_id", configID, "replace", replace, "allow_user_change", allowUserChange, "expires_at", formatTime(st.ExpiresAt))
	return resp, nil
}

// authURLConfigID is the Facebook Login for Business configuration an
// auth-url shows: its config_id, else config's facebook_config_id; "" for
// a scope dialog.
func authURLConfigID(cfg *config, d *framework.FieldData) (string, error) {
	given := strings.TrimSpace(d.Get("config_id").(string))
	switch {
	case given == "":
		return cfg.FacebookConfigID, nil
	case !loginFor(cfg).takesConfigurations():
		return "", badField("config_id", "only goes with config login=facebook: configurations belong to Facebook Login for Business")
	case !configIDRegex.MatchString(given):
		return "", badField("config_id", "must be the numeric ID of a Facebook Login for Business configuration")
	}
	return given, checkConfigIDAllowed(cfg, given)
}

// renameField makes a name check's 400 name the field the name came in.
func renameField(err error, field string) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return badField(field, "%s", fe.msg)
	}
	return err
}
