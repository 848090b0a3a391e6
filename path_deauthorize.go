package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathDeauthorizeHelpSyn = `Meta's Deauthorize Callback: an owner removed the app from their account.`

const pathDeauthorizeHelpDesc = `
Unauthenticated: Meta POSTs a form field "signed_request", signed with the
app secret, when a user removes the app. The engine verifies it (signature,
algorithm HMAC-SHA256, issued_at within config's signed_request_max_age),
then drops the token of every account of that user and marks it needs_reauth:
token/<name> answers an error until the owner authorizes again. A request
that does not verify changes nothing and gets a 400.

An account registered or re-authorized after the request's issued_at is
left alone, and a request acts once: a repeat (a replay, or Meta delivering
again) gets the same answer and changes nothing. Every accepted request is
remembered, by hash, in local storage until it is older than
signed_request_max_age, even one that dropped nothing; one issued before
the oldest the engine remembers is refused.

Register https://<vault>/v1/<mount>/deauthorize as the app's Deauthorize
Callback URL in Meta's dashboard.
`

// deauthorizedError is what an account read says after its owner removed the app.
const deauthorizedError = "deauthorized by the user: the app was removed from the Instagram account; authorize it again"

func signedRequestField() map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"signed_request": {
			Type:         framework.TypeString,
			Description:  "Meta's signed request: base64url(signature).base64url(payload), signed with the app secret.",
			Required:     true,
			DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
		},
	}
}

func pathDeauthorize(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "deauthorize$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
		},
		Fields: signedRequestField(),
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback:    b.pathDeauthorizeWrite,
				Summary:     "Handle Meta's Deauthorize Callback.",
				Description: "Unauthenticated. Verifies signed_request, then drops the tokens of that user's accounts and marks them needs_reauth.",
				DisplayAttrs: &framework.DisplayAttributes{
					OperationVerb:   "deauthorize",
					OperationSuffix: "user",
				},
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses: map[int][]framework.Response{
					http.StatusOK: {{
						Description: "Handled (also when the user has no account here).",
						Fields: map[string]*framework.FieldSchema{
							"success": {Type: framework.TypeBool, Description: "Always true."},
						},
					}},
					http.StatusBadRequest: {{Description: "The signed_request did not verify; nothing changed."}},
				},
			},
		},
		HelpSynopsis:    pathDeauthorizeHelpSyn,
		HelpDescription: pathDeauthorizeHelpDesc,
	}}
}

func (b *backend) pathDeauthorizeWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	sr, _, err := b.verifySignedRequest(ctx, req.Storage, d, "deauthorize")
	if err != nil {
		return respondErr(err)
	}
	unlock := b.lockSignedRequests()
	defer unlock()
	seen, err := b.loadSeenRequest(ctx, req.Storage, sr)
	if err != nil {
		return nil, err
	}
	if !seen.DeauthorizedAt.IsZero() {
		// A replay, or Meta delivering again: answered as before,
		// nothing done again.
		b.warnRefusal("deauthorize", "signed_request seen before: answered as the first time, nothing done again",
			"issued_at", formatTime(sr.IssuedAt), "first_handled_at", formatTime(seen.DeauthorizedAt))
		return rawJSON(http.StatusOK, map[string]any{"success": true})
	}
	names, err := b.accountsOfUser(ctx, req.Storage, sr.UserID)
	if err != nil {
		return nil, err
	}
	dropped := 0
	for _, name := range names {
		ok, err := b.deauthorizeAccount(ctx, req.Storage, name, sr)
		if err != nil {
			return nil, err
		}
		if ok {
			dropped++
			b.noteSignedRequest("deauthorize", "account deauthorized by its owner: token dropped, status needs_reauth", "account", name)
		}
	}
	if dropped == 0 {
		b.noteSignedRequest("deauthorize", "deauthorize callback: the user has no account in this engine with a token to drop that was authorized before the request was issued")
	}
	// Remembered whether or not it dropped anything: its replays are then
	// answered from the record, without a look at any account.
	seen.DeauthorizedAt = b.clock.Now()
	if err := b.saveSeenRequest(ctx, req.Storage, sr, seen); err != nil {
		return nil, err
	}
	return rawJSON(http.StatusOK, map[string]any{"success": true})
}

// deauthorizeAccount drops the token of account name if it still belongs
// to the request's user and was authorized before the request was issued,
// under the account's lock.
func (b *backend) deauthorizeAccount(ctx context.Context, s logical.Storage, name string, sr *graph.SignedRequest) (bool, error) {
	changed := false
	_, err := b.updateAccount(ctx, s, name, func(stored *account) (*account, error) {
		if stored == nil || !stored.belongsTo(sr.UserID) {
			return nil, nil
		}
		if stored.AccessToken == "" && stored.UserAccessToken == "" {
			// Deauthorized already (by an earlier request): nothing to
			// drop, nothing to write.
			return nil, nil
		}
		if stored.authorizedAfter(sr.IssuedAt) {
			b.noteSignedRequest("deauthorize", "deauthorize callback: account left alone, its owner authorized it after the request was issued",
				"account", name, "registered_at", formatTime(stored.RegisteredAt), "issued_at", formatTime(sr.IssuedAt))
			return nil, nil
		}
		next := stored.clone()
		next.markDeauthorized(b.clock.Now())
		changed = true
		return next, nil
	})
	return changed, err
}

// verifySignedRequest checks a Meta callback's only field and its
// signature. Its errors are 400s that never quote the signed_request.
func (b *backend) verifySignedRequest(ctx context.Context, s logical.Storage, d *framework.FieldData, path string) (*graph.SignedRequest, *config, error) {
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, errNotConfigured
	}
	sr, err := graph.ParseSignedRequest(d.Get("signed_request").(string), cfg.AppSecret, b.clock.Now(), cfg.SignedRequestMaxAge)
	if err == nil {
		// Verified, but perhaps issued before what the engine still
		// remembers (signed_request_horizon.go).
		var sre *graph.SignedRequestError
		if err = checkHorizon(ctx, s, sr); err != nil && !errors.As(err, &sre) {
			return nil, nil, err
		}
	}
	if err != nil {
		// A refused request may be an attack or a misconfigured app
		// secret: the operator needs to see it, without the value.
		b.warnRefusal(path, "refused a signed_request", "reason", err.Error())
		var sre *graph.SignedRequestError
		if errors.As(err, &sre) {
			return nil, nil, badField("signed_request", "%s", sre.Reason)
		}
		return nil, nil, badField("signed_request", "%s", strings.TrimPrefix(err.Error(), "signed_request: "))
	}
	return sr, cfg, nil
}

// accountsOfUser names the accounts whose Instagram user id or app-scoped
// id is userID. The schedule knows every account's owner once it is built;
// until then (the first seconds after the plugin starts) every account is
// read from storage, several at a time and around the read cache, which
// would otherwise fill with every account. Callers re-check ownership under
// the account's lock.
func (b *backend) accountsOfUser(ctx context.Context, s logical.Storage, userID string) ([]string, error) {
	if names, ok := b.sched.NamesOfUser(userID); ok {
		slices.Sort(names)
		return names, nil
	}
	var out []string
	err := forEveryAccount(ctx, s, func(int) {}, func(name string, a *account) {
		if a.belongsTo(userID) {
			out = append(out, name)
		}
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// belongsTo reports whether the account is the Meta user userID.
func (a *account) belongsTo(userID string) bool {
	return userID != "" && (a.UserID == userID || a.AppScopedID == userID)
}

// rawJSON answers body as the whole HTTP response: Meta reads top-level
// fields, not Vault's "data" envelope.
func rawJSON(status int, body any) (*logical.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		logical.HTTPStatusCode:         status,
		logical.HTTPContentType:        "application/json",
		logical.HTTPRawBody:            b,
		logical.HTTPCacheControlHeader: "no-store",
	}}, nil
}
