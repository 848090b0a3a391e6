package instagram

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	dto "github.com/prometheus/client_model/go"
)

const pathMetricsHelpSyn = `The engine's health for Prometheus.`

const pathMetricsHelpDesc = `
Answers the Prometheus text exposition format (text/plain; version=0.0.4) as a
raw response, for Prometheus to scrape like Vault's own sys/metrics:
metrics_path /v1/<mount>/metrics, with a Vault token whose policy allows only
read on this path. format=json answers the same figures as Vault data.
Aggregates only by default; accounts=true adds one series per account (named),
which at many accounts is a cardinality to ask for deliberately.
`

const (
	metricsFormatPrometheus = "prometheus"
	metricsFormatJSON       = "json"
)

func pathMetrics(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "metrics$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "metrics",
		},
		Fields: map[string]*framework.FieldSchema{
			"format": {
				Type:          framework.TypeString,
				Description:   `"prometheus" (default): the text exposition format as a raw response; "json": the same figures as Vault data.`,
				Default:       metricsFormatPrometheus,
				AllowedValues: []any{metricsFormatPrometheus, metricsFormatJSON},
				Query:         true,
			},
			"accounts": {
				Type:        framework.TypeBool,
				Description: "Add one series per account (labelled with its name). Off by default: at many accounts this is a cardinality to ask for deliberately.",
				Query:       true,
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:    b.pathMetricsRead,
				Summary:     "Report the engine's health as Prometheus metrics.",
				Description: "The vault_instagram_* metric families in Prometheus' text format (or as Vault data with format=json): accounts by status, the soonest token expiry, refreshes and health checks, the last periodic run, calls to Meta and the app's usage of its rate limit, app-level problems and the Graph API version's end of life. Read from memory: a scrape never reads the accounts from storage. Forwarded to the active node, which runs the refreshes.",
				// The figures live on the node that refreshes: the
				// primary's active node.
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK: text/plain; version=0.0.4 by default; with format=json, one entry per metric family.",
					Fields: map[string]*framework.FieldSchema{
						"families": {Type: framework.TypeMap, Description: "format=json: each metric family by name, with its type, help and samples (labels and value)."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathMetricsHelpSyn,
		HelpDescription: pathMetricsHelpDesc,
	}}
}

func (b *backend) pathMetricsRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	format := d.Get("format").(string)
	if format != metricsFormatPrometheus && format != metricsFormatJSON {
		return respondErr(badField("format", `must be "prometheus" or "json"`))
	}
	accounts := d.Get("accounts").(bool)
	// The version's end of life comes from config: make sure it is loaded
	// (one read, cached afterwards; never the accounts).
	if _, err := b.readConfig(ctx, req.Storage); err != nil {
		return nil, err
	}
	if format == metricsFormatJSON {
		families, err := b.metrics.gather(accounts)
		if err != nil {
			return nil, err
		}
		return &logical.Response{Data: map[string]any{"families": familiesData(families)}}, nil
	}
	body, contentType, err := b.metrics.exposition(accounts)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		logical.HTTPStatusCode:  http.StatusOK,
		logical.HTTPContentType: contentType,
		logical.HTTPRawBody:     body,
	}}, nil
}

// familiesData is gathered metric families as Vault data: the same figures
// the text format carries.
func familiesData(families []*dto.MetricFamily) map[string]any {
	out := make(map[string]any, len(families))
	for _, f := range families {
		samples := make([]map[string]any, 0, len(f.GetMetric()))
		for _, m := range f.GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			s := map[string]any{"labels": labels}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s["value"] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s["value"] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				buckets := map[string]uint64{}
				for _, bk := range h.GetBucket() {
					buckets[strconv.FormatFloat(bk.GetUpperBound(), 'g', -1, 64)] = bk.GetCumulativeCount()
				}
				s["count"], s["sum"], s["buckets"] = h.GetSampleCount(), h.GetSampleSum(), buckets
			default:
				s["value"] = m.GetUntyped().GetValue()
			}
			samples = append(samples, s)
		}
		out[f.GetName()] = map[string]any{
			"type":    strings.ToLower(f.GetType().String()),
			"help":    f.GetHelp(),
			"samples": samples,
		}
	}
	return out
}
