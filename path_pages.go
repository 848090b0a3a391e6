package instagram

import (
	"context"
	"net/http"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathPagesHelpSyn = `List the Facebook Pages an account's user token reaches.`

const pathPagesHelpDesc = `
For an account registered through Facebook Login (config login=facebook):
the Facebook Pages its long-lived user token reaches (Meta's me/accounts),
each with its id, name and linked Instagram professional account, so that an
operator can choose one with "vault write <mount>/accounts/<name>
page_id=<id>". Page tokens are never shown. A Page without a linked
Instagram account cannot be chosen.
`

func pathPages(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "accounts/" + accountNamePattern + "/pages$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "account-pages",
		},
		Fields: map[string]*framework.FieldSchema{
			"name": accountNameField(),
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:    b.withAccount(b.pathPagesRead),
				Summary:     "List the Facebook Pages a Facebook Login account's user token reaches (never their tokens).",
				Description: "Asks Meta (me/accounts, with appsecret_proof) for the Pages the account's long-lived user token reaches and answers each one's id, name and linked Instagram professional account.",
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK",
					Fields: map[string]*framework.FieldSchema{
						"pages": {
							Type:        framework.TypeSlice,
							Description: "The Pages: objects with id, name and instagram_business_account_id (empty when no Instagram professional account is linked).",
						},
						"page_id": {Type: framework.TypeString, Description: "The Page the account serves now; empty when it serves the user token."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathPagesHelpSyn,
		HelpDescription: pathPagesHelpDesc,
	}}
}

func (b *backend) pathPagesRead(ctx context.Context, req *logical.Request, _ *framework.FieldData, a *account) (*logical.Response, error) {
	name := a.Name
	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	now := b.clock.Now()
	switch {
	case !a.login().hasPages():
		return respondErr(badField("name", "account %q came through %s: Pages belong to Facebook Login accounts", name, a.login().title()))
	case a.UserAccessToken == "" || a.Status == statusNeedsReauth:
		return respondErr(accountUnusable(name, "needs re-authorization", a.LastError))
	case !a.UserTokenExpiresAt.IsZero() && !now.Before(a.UserTokenExpiresAt):
		return respondErr(accountUnusable(name, "has a user token that expired at "+formatTime(a.UserTokenExpiresAt)+"; re-authorize it", ""))
	}

	pages, err := callMeta(ctx, cfg, func(ctx context.Context) ([]graph.Page, error) {
		return meta.Pages(ctx, a.UserAccessToken)
	})
	if err != nil {
		msg := graph.Redact(err.Error(), a.UserAccessToken, a.AccessToken, cfg.AppSecret)
		switch graph.Classify(err) {
		case graph.ClassTransient, graph.ClassThrottled:
			return nil, logical.CodedError(http.StatusBadGateway, "Meta did not answer usably, try again: "+msg)
		case graph.ClassReauth:
			return respondErr(accountUnusable(name, "has a user token Facebook refuses; re-authorize it", msg))
		}
		return nil, logical.CodedError(http.StatusBadGateway, "Facebook refused to list the Pages: "+msg)
	}
	out := make([]map[string]any, 0, len(pages))
	for _, p := range pages {
		// Never p.AccessToken: this is an operator's read.
		out = append(out, map[string]any{
			"id":                            p.ID,
			"name":                          p.Name,
			"instagram_business_account_id": p.InstagramBusinessAccountID,
		})
	}
	return &logical.Response{Data: map[string]any{
		"pages":   out,
		"page_id": a.PageID,
	}}, nil
}
