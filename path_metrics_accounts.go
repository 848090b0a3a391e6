package instagram

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	dto "github.com/prometheus/client_model/go"
)

const pathMetricsAccountsHelpSyn = `Per-account series of the most urgent accounts, for Prometheus.`

const pathMetricsAccountsHelpDesc = `
The series of the "limit" most urgent accounts (default 100, at most 1000):
needs_reauth first, then refresh_failing, expiring and valid, the soonest
expiry first within each. They are labelled with the account's name, so this
path is separate from metrics: grant read on it only to whoever may learn
the accounts' names (the shipped metrics policy does not). Read from the
in-memory schedule, never from storage; concurrent scrapes share one
computation. format=json answers the same series as Vault data.
`

func pathMetricsAccounts(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "metrics/accounts$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "account-metrics",
		},
		Fields: map[string]*framework.FieldSchema{
			"format": metricsFormatField("series"),
			"limit": {
				Type:        framework.TypeInt,
				Description: fmt.Sprintf("How many accounts, the most urgent first: 1 to %d; default %d.", maxAccountSeriesLimit, defaultAccountSeriesLimit),
				Query:       true,
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:                    b.pathMetricsAccountsRead,
				Summary:                     "Report the most urgent accounts' status and expiry as Prometheus metrics.",
				Description:                 "vault_instagram_account_status{account,status}, vault_instagram_account_token_expiry_timestamp_seconds{account} and vault_instagram_account_missing_scopes{account} for the limit most urgent accounts, and vault_instagram_account_series_omitted, the accounts left out. Names accounts: grant it deliberately. Forwarded to the active node, whose schedule holds the figures.",
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses:                   metricsResponses(),
			},
		},
		HelpSynopsis:    pathMetricsAccountsHelpSyn,
		HelpDescription: pathMetricsAccountsHelpDesc,
	}}
}

func (b *backend) pathMetricsAccountsRead(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	format, err := metricsFormat(d)
	if err != nil {
		return respondErr(err)
	}
	limit := defaultAccountSeriesLimit
	if v, ok := d.GetOk("limit"); ok {
		limit = v.(int)
	}
	if limit < 1 || limit > maxAccountSeriesLimit {
		return respondErr(badField("limit", "must be between 1 and %d", maxAccountSeriesLimit))
	}
	return b.metricsAnswer(ctx, fmt.Sprintf("metrics/accounts?limit=%d", limit), format, func() ([]*dto.MetricFamily, error) {
		return b.metrics.accountFamilies(limit)
	})
}
