package instagram

import (
	"context"
	"errors"
	"net/http"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const pathRefreshHelpSyn = `Refresh an account's token now.`

const pathRefreshHelpDesc = `
Refreshes the account's long-lived token immediately instead of waiting for
the engine's schedule. Instagram refuses to refresh a token younger than 24
hours or one that has expired; the engine answers those with a 400 that says
when a refresh becomes possible or that the account must be re-authorized.
A failed refresh leaves the stored token as it was. Manual and scheduled
refreshes of one account never run at the same time.
`

func pathRefresh(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "accounts/" + accountNamePattern + "/refresh$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "account",
		},
		Fields: map[string]*framework.FieldSchema{
			"name": accountNameField(),
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback:     withAccountName(b.pathRefreshWrite),
				Summary:      "Refresh an account's token now.",
				Description:  "Calls Instagram's refresh endpoint now instead of waiting for the schedule. A token younger than 24 hours or already expired is refused with a 400; a failed refresh leaves the stored token as it was.",
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "refresh"},
				// Refreshing writes storage: on a performance standby or
				// secondary, Vault forwards the request to where it can.
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK", Fields: accountResponseFields(),
				}}},
			},
		},
		HelpSynopsis:    pathRefreshHelpSyn,
		HelpDescription: pathRefreshHelpDesc,
	}}
}

func (b *backend) pathRefreshWrite(ctx context.Context, req *logical.Request, _ *framework.FieldData, name string) (*logical.Response, error) {
	a, err := b.refreshAccount(ctx, req.Storage, name)
	switch {
	case errors.Is(err, errRefreshRefused):
		return logical.ErrorResponse(err.Error()), nil
	case err != nil:
		return respondErr(err)
	case a == nil:
		return respondErr(errNotRegistered(name))
	}
	return &logical.Response{Data: b.accountMetadata(ctx, req.Storage, a)}, nil
}
