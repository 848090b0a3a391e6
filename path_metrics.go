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
Aggregates only: nothing here names an account, whatever the parameters.
The per-account series are on metrics/accounts, a path of its own for a
policy to grant deliberately.
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
			"format": metricsFormatField("figures"),
			"accounts": {
				Type:        framework.TypeBool,
				Description: "No longer taken: true is refused. The per-account series are on metrics/accounts, which a policy must grant of its own.",
				Query:       true,
				Deprecated:  true,
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
				Responses:                   metricsResponses(),
			},
		},
		HelpSynopsis:    pathMetricsHelpSyn,
		HelpDescription: pathMetricsHelpDesc,
	}}
}

func (b *backend) pathMetricsRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	format, err := metricsFormat(d)
	if err != nil {
		return respondErr(err)
	}
	if d.Get("accounts").(bool) {
		// The token the metrics policy gives Prometheus must learn no
		// account name by any parameter (issue 22).
		return respondErr(badField("accounts", "is no longer taken here: the per-account series are on metrics/accounts, a path a policy must grant of its own (the metrics policy does not)"))
	}
	// The version's end of life comes from config: make sure it is loaded
	// (one read, cached afterwards; never the accounts).
	if _, err := b.readConfig(ctx, req.Storage); err != nil {
		return nil, err
	}
	return b.metricsAnswer(ctx, "metrics", format, b.metrics.gather)
}

// textAnswer is a rendered text-format answer, shared by coalesced scrapes
// (read only).
type textAnswer struct {
	body        []byte
	contentType string
}

// metricsAnswer answers the families gather makes, in format, computed
// once for the scrapes of key that arrive together (coalesced).
func (b *backend) metricsAnswer(ctx context.Context, key, format string, gather func() ([]*dto.MetricFamily, error)) (*logical.Response, error) {
	if format == metricsFormatJSON {
		v, err := b.metrics.coalesced(ctx, key+"?format=json", func() (any, error) { return gather() })
		if err != nil {
			return nil, err
		}
		// Vault data is built per scrape: a response's maps are its own.
		return &logical.Response{Data: map[string]any{"families": familiesData(v.([]*dto.MetricFamily))}}, nil
	}
	v, err := b.metrics.coalesced(ctx, key+"?format=prometheus", func() (any, error) {
		families, err := gather()
		if err != nil {
			return nil, err
		}
		body, contentType, err := encodeText(families)
		return textAnswer{body: body, contentType: contentType}, err
	})
	if err != nil {
		return nil, err
	}
	text := v.(textAnswer)
	return &logical.Response{Data: map[string]any{
		logical.HTTPStatusCode:  http.StatusOK,
		logical.HTTPContentType: text.contentType,
		logical.HTTPRawBody:     text.body,
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

// metricsFormatField is both metrics paths' format parameter; what names
// what they answer ("figures", "series").
func metricsFormatField(what string) *framework.FieldSchema {
	return &framework.FieldSchema{
		Type:          framework.TypeString,
		Description:   `"prometheus" (default): the text exposition format as a raw response; "json": the same ` + what + ` as Vault data.`,
		Default:       metricsFormatPrometheus,
		AllowedValues: []any{metricsFormatPrometheus, metricsFormatJSON},
		Query:         true,
	}
}

// metricsFormat is the format a metrics read asked for, or a 400 naming it.
func metricsFormat(d *framework.FieldData) (string, error) {
	format := d.Get("format").(string)
	if format != metricsFormatPrometheus && format != metricsFormatJSON {
		return "", badField("format", `must be "prometheus" or "json"`)
	}
	return format, nil
}

// metricsResponses is both metrics paths' 200.
func metricsResponses() map[int][]framework.Response {
	return map[int][]framework.Response{http.StatusOK: {{
		Description: "OK: text/plain; version=0.0.4 by default; with format=json, one entry per metric family.",
		Fields: map[string]*framework.FieldSchema{
			"families": {Type: framework.TypeMap, Description: "format=json: each metric family by name, with its type, help and samples (labels and value)."},
		},
	}}}
}
