package instagram

import (
	"context"
	"errors"
	"net/http"
	"strings"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathCallbackHelpSyn = `Instagram's redirect target: registers the account an auth-url was built for.`

const pathCallbackHelpDesc = `
Unauthenticated: the account owner's browser lands here from Instagram's login
dialog, with "code" and "state" (or "error", "error_reason" and
"error_description" when the owner declined). The engine checks that the state
is one auth-url issued, unused and unexpired, and uses it up; then it
exchanges the code for a long-lived token and registers the account named in
the state. It answers a small HTML page saying what happened, never the token.

Under config login=facebook the owner comes from Facebook's dialog instead:
the code becomes a long-lived Facebook user token, and an account that
served a Page keeps serving that Page (a Page the new authorization does not
reach leaves the account unchanged).

Set config's redirect_uri to this path's public URL
(https://<vault>/v1/<mount>/callback) and register the same URL as a valid
OAuth redirect URI in Meta's dashboard.
`

const callbackPattern = "callback$"

func pageResponses() map[int][]framework.Response {
	page := func(desc string) []framework.Response {
		return []framework.Response{{Description: desc, MediaType: "text/html"}}
	}
	return map[int][]framework.Response{
		http.StatusOK:         page("The account was registered: an HTML page naming it."),
		http.StatusBadRequest: page("Refused (state unknown, expired or used; owner declined; code refused): an HTML page saying why."),
		http.StatusConflict:   page("Refused: the name was registered after a link without replace was issued, or another user approved a re-authorization link; nothing changed."),
		http.StatusBadGateway: page("Instagram could not be reached: an HTML page asking to start again."),
	}
}

func pathCallback(b *backend) []*framework.Path {
	str := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeString, Description: desc}
	}
	secret := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeString, Description: desc, DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}}
	}
	// suffix keeps the two operations' OpenAPI operationIds apart.
	op := func(summary, suffix string) *framework.PathOperation {
		return &framework.PathOperation{
			Callback:    b.pathCallbackHandle,
			Summary:     summary,
			Description: "Unauthenticated. Checks and uses up the state, exchanges the code and registers the account; answers an HTML page.",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationVerb:   "complete",
				OperationSuffix: suffix,
			},
			// The state lives, and the account is written, on the
			// primary's active node.
			ForwardPerformanceStandby:   true,
			ForwardPerformanceSecondary: true,
			Responses:                   pageResponses(),
		}
	}
	return []*framework.Path{{
		Pattern: callbackPattern,
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
		},
		Fields: map[string]*framework.FieldSchema{
			"code":              secret("Authorization code from Instagram."),
			"state":             secret("The state auth-url put in the login URL."),
			"error":             str("Set by Instagram when the owner declined (access_denied)."),
			"error_reason":      str("Why the authorization failed, such as user_denied."),
			"error_description": str("Instagram's description of the failure."),
			"error_code":        str("Facebook Login's numeric error code, on failure."),
			"error_message":     str("Facebook Login's error message, on failure."),
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   op("Complete an authorization (GET, Instagram's redirect).", "authorization"),
			logical.UpdateOperation: op("Complete an authorization (POST form).", "authorization-form-post"),
		},
		HelpSynopsis:    pathCallbackHelpSyn,
		HelpDescription: pathCallbackHelpDesc,
	}}
}

func (b *backend) pathCallbackHandle(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	log := b.Logger().With("path", "callback")
	get := func(k string) string { return strings.TrimSpace(d.Get(k).(string)) }

	// A code longer than any Meta issues is refused first, leaving the
	// state unused and sending nothing (callback_code_bound.go).
	if codeTooLong(get("code")) {
		return b.refuseOverlongCallbackCode()
	}
	// The state comes first, whatever else the request says: it is what
	// proves the request continues an authorization this engine started,
	// and nothing from the query is shown before it has been checked.
	st, err := b.consumeState(ctx, req.Storage, get("state"))
	switch {
	case errors.Is(err, errStateExpired):
		b.warnRefusal("callback", "authorization callback refused: state expired")
		return refusedPage(http.StatusBadRequest, "Authorization link expired",
			"This authorization link has expired, so no account was connected.").response()
	case errors.Is(err, errStateUnknown):
		b.warnRefusal("callback", "authorization callback refused: state missing, unknown or already used")
		return refusedPage(http.StatusBadRequest, "Authorization link not valid",
			"This authorization link is unknown or was already used, so no account was connected.").response()
	case err != nil:
		return nil, err
	}
	log = log.With("account", st.Account)

	if e := get("error"); e != "" || get("error_code") != "" {
		reason := firstNonEmpty(get("error_reason"), e, get("error_code"))
		// The query's error texts are anyone's to write who holds a
		// state (the URL can be crafted): the log keeps them, cut, for
		// the operator; the page says what happened in its own words.
		log.Info("authorization callback: the owner did not authorize", "error_reason", graph.CutText(reason, 64),
			"error_description", graph.CutText(firstNonEmpty(get("error_description"), get("error_message")), maxReflectedLength))
		return refusedPage(http.StatusBadRequest, "Authorization declined",
			loginNamed(st.Login).product()+" reports that the authorization for account "+st.Account+" was not granted.", declinedDetail(reason)).response()
	}
	code := get("code")
	if code == "" {
		log.Warn("authorization callback refused: no code")
		return refusedPage(http.StatusBadRequest, "Authorization not completed",
			loginNamed(st.Login).product()+" sent no authorization code, so no account was connected.").response()
	}
	return b.completeAuthorization(ctx, req.Storage, st, code, log)
}

// refuseCallbackParams answers a callback carrying a parameter of its own
// (field) that is malformed (given twice, say), naming it but quoting no
// value. The state is left unused: the owner's real redirect can still
// complete.
func (b *backend) refuseCallbackParams(field string) (*logical.Response, error) {
	b.warnRefusal("callback", "authorization callback refused: malformed parameter", "field", field)
	return refusedPage(http.StatusBadRequest, "Authorization not completed",
		"The request carried unexpected or malformed parameters: one was given more than once, or in the wrong form.", "Parameters: "+field).response()
}

// refuseUnknownCallbackParams answers a callback carrying parameters it
// does not define. Their names are the caller's to choose, so the page
// does not repeat them (a Vault-origin page must carry no one's words but
// the engine's); the log names them, cut, for the operator. The state is
// left unused.
func (b *backend) refuseUnknownCallbackParams(fields string) (*logical.Response, error) {
	b.warnRefusal("callback", "authorization callback refused: unknown parameters", "fields", graph.CutText(fields, maxReflectedLength))
	return refusedPage(http.StatusBadRequest, "Authorization not completed",
		"The request carried unexpected or malformed parameters: parameters this page does not take.").response()
}

// declinedDetail says in fixed words why Meta sent the owner back without
// a code, from the query's error_reason (or error): the owner's refusal,
// which Meta reports as user_denied (access_denied), or any other reason,
// which only the log records.
func declinedDetail(reason string) string {
	if reason == "user_denied" || reason == "access_denied" {
		return "The account's owner declined to grant the permissions asked for."
	}
	return "Meta gave another reason, which the Vault server's log records."
}

// completeAuthorization exchanges the code of a checked state and registers
// the account the state names.
func (b *backend) completeAuthorization(ctx context.Context, s logical.Storage, st *pendingState, code string, log hclog.Logger) (*logical.Response, error) {
	meta, cfg, err := b.metaFor(ctx, s)
	if errors.Is(err, errNotConfigured) {
		log.Warn("authorization callback refused: the engine is not configured")
		return refusedPage(http.StatusBadRequest, "Authorization not completed",
			"The Vault engine has no Meta app configured, so no account was connected.").response()
	}
	if err != nil {
		return nil, err
	}
	// The state is used up: from here the authorization finishes, and
	// its account is stored, whether or not the owner's browser still
	// waits (detach.go), or the owner would have to start over.
	ctx, cancel := detached(ctx, metaCallsPerAuthorization*cfg.RequestTimeout+saveTimeout)
	defer cancel()
	if st.Login != cfg.Login {
		// The code came from the other product's dialog: it cannot be
		// exchanged under the current config.
		log.Warn("authorization callback refused: config's login changed since the authorization URL was issued", "login", cfg.Login, "state_login", st.Login)
		return refusedPage(http.StatusBadRequest, "Authorization not completed",
			"The Vault engine's login setting changed since this authorization link was issued, so no account was connected.").response()
	}
	if st.ConfigID != "" && !cfg.configIDAllowed(st.ConfigID) {
		// The admin took the configuration off allowed_config_ids since
		// the link was issued: what it would give is no longer wanted.
		log.Warn("authorization callback refused: the link's Facebook Login for Business configuration is no longer in config's allowed_config_ids", "config_id", st.ConfigID)
		return refusedPage(http.StatusBadRequest, "Authorization not completed",
			"The Vault engine no longer allows the login configuration this authorization link was issued for, so no account was connected.").response()
	}

	accountTaken := func() (*logical.Response, error) {
		log.Warn("authorization callback refused: the account name was registered after the link was issued, and the link may not replace it", "account", st.Account)
		return refusedPage(http.StatusConflict, "Authorization not completed",
			"An account named "+st.Account+" was registered after this authorization link was issued, and the link may not replace it, so nothing was changed.").response()
	}
	if !st.Replace {
		existing, err := b.getAccount(ctx, s, st.Account)
		if err != nil {
			return nil, err
		}
		if existing != nil {
			return accountTaken()
		}
	}

	l := loginFor(cfg)
	product := l.product()
	a, err := l.callback(ctx, b, s, meta, cfg, st, code)
	if err != nil {
		// The error is already scrubbed of the code and tokens; it goes
		// to the log for the operator, not to the page.
		msg := graph.Redact(err.Error(), code, cfg.AppSecret)
		var coded logical.HTTPCodedError
		if errors.As(err, &coded) && coded.Code() == http.StatusBadGateway {
			log.Warn("authorization callback: "+product+" unavailable during the code exchange", "error", msg)
			return refusedPage(http.StatusBadGateway, product+" unavailable",
				product+" could not be reached to finish the authorization, so no account was connected.").response()
		}
		if pageFieldError(err) {
			log.Warn("authorization callback: the new authorization does not reach the account's Page", "error", msg)
			return refusedPage(http.StatusBadRequest, "Authorization not completed",
				"This authorization does not reach the Facebook Page that account "+st.Account+" serves, with a linked Instagram account, so nothing was changed.").response()
		}
		log.Warn("authorization callback: "+product+" refused the code exchange", "error", msg)
		return refusedPage(http.StatusBadRequest, "Authorization not completed",
			product+" refused the authorization code, so no account was connected.").response()
	}
	switch err := b.registerAccount(ctx, s, st.Account, a, "callback", st.replacement()); {
	case errors.Is(err, errAccountExists):
		return accountTaken()
	case errors.Is(err, errUserChanged):
		return userChanged(log, st.Account, a)
	case err != nil:
		return nil, err
	}
	return l.connected(a, st.Account).response()
}

// userChanged answers a re-authorization link opened by another user than
// the account's: the new token is dropped, the account stays as it was.
// The page names the user who approved (the reader is that user), never
// the account's own.
func userChanged(log hclog.Logger, name string, a *account) (*logical.Response, error) {
	log.Warn("authorization callback refused: another Instagram user approved a re-authorization link made without allow_user_change",
		"account", name, "approved_by_username", a.Username, "approved_by_user_id", firstNonEmpty(a.InstagramUserID, a.UserID))
	return refusedPage(http.StatusConflict, "Authorization not completed", a.login().otherUser(a, name),
		"Log in as the account's own user, or ask your Vault operator for a link that may change the account's user.").response()
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
