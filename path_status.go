package instagram

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const pathStatusHelpSyn = `Report the engine's own health.`

const pathStatusHelpDesc = `
Accounts by status, when the next refresh is due, what the last periodic run
did, and totals since the plugin started. External plugins cannot emit Vault
telemetry, so this is the path monitoring should scrape.
`

func pathStatus(b *backend) []*framework.Path {
	intField := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeInt64, Description: desc}
	}
	timeField := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeTime, Description: desc}
	}
	return []*framework.Path{{
		Pattern: "status$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "status",
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:    b.pathStatusRead,
				Summary:     "Report the engine's health and refresh activity.",
				Description: "Accounts by status, when the next refresh is due, what the last periodic run did and totals since the plugin started. External plugins cannot emit Vault telemetry: monitoring scrapes this path.",
				// The schedule and the periodic runs status reports live on
				// the active node of the primary: a performance standby's or
				// secondary's own are built once from storage and never
				// worked, a frozen view. Vault forwards the read instead.
				ForwardPerformanceStandby:   true,
				ForwardPerformanceSecondary: true,
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK",
					Fields: map[string]*framework.FieldSchema{
						"version":                  {Type: framework.TypeString, Description: "Plugin version."},
						"configured":               {Type: framework.TypeBool, Description: "Whether config holds a Meta app."},
						"accounts_total":           intField("Registered accounts."),
						"accounts_valid":           intField("Accounts whose token is current."),
						"accounts_expiring":        intField("Facebook Login accounts whose token expires within refresh_window: their owner must authorize again."),
						"accounts_refresh_failing": intField("Accounts whose last refresh failed and is being retried."),
						"accounts_needs_reauth":    intField("Accounts that need their owner to authorize again."),
						"next_refresh_at":          timeField("When the next refresh is due."),
						"started_at":               timeField("When this plugin instance started."),
						"last_run_at":              timeField("When the last periodic run started."),
						"last_run_duration_ms":     intField("How long the last periodic run took."),
						"last_run_refreshed":       intField("Tokens refreshed by the last periodic run."),
						"last_run_failed":          intField("Refreshes that failed in the last periodic run."),
						"periodic_runs":            intField("Periodic runs since start."),
						"refreshes_succeeded":      intField("Successful refreshes since start (periodic and manual)."),
						"refreshes_failed":         intField("Failed refreshes since start (periodic and manual)."),
						"health_checks_succeeded":  intField("Health checks that found the token working, since start: debug_token for Facebook Login accounts, the daily /me call for Instagram Login ones."),
						"health_checks_failed":     intField("Health checks that failed or found the token dead, since start."),
						"app_paused_until":         timeField("Until when Meta's app-wide throttle (code 4) holds every refresh and health check back (at most a day from Meta's answer); empty when none is in force."),
						"app_pause_reason":         {Type: framework.TypeString, Description: "Which call met the app-wide throttle, with Meta's message; empty when none is in force."},

						"schedule_ready":               {Type: framework.TypeBool, Description: "Whether the refresh schedule has been built from storage since the plugin started; until then the account figures are incomplete."},
						"soonest_expiry_at":            timeField("The soonest expiry among usable tokens (any status but needs_reauth) with a known expiry."),
						"accounts_missing_scopes":      intField("Accounts granted fewer scopes than config's scopes (permission drift; missing_scopes on accounts/<name>)."),
						"graph_api_version":            {Type: framework.TypeString, Description: "The configured Graph API version."},
						"graph_api_version_state":      {Type: framework.TypeString, Description: "current, expiring (end of life within 90 days), ended, or unknown (not in the engine's table: no date)."},
						"graph_api_version_expires_at": timeField("The configured version's end of life; empty when unknown or not announced."),
						"app_problem":                  {Type: framework.TypeMap, Description: "The problem Meta reports with the app itself (kind: throttled, blocked, restricted, deactivated or development_mode; code; message; since; last_seen; answers), recorded once however many accounts' calls met it; absent when none."},
						"health":                       {Type: framework.TypeString, Description: "The app-level verdict: ok, warning or error (an ended Graph API version, or an app-level problem other than a throttle). Accounts are judged in accounts_health."},
						"health_findings":              {Type: framework.TypeStringSlice, Description: "What made health what it is, one line per finding."},
						"accounts_health":              {Type: framework.TypeString, Description: "The accounts' verdict: error while any needs its owner to authorize again, warning while any refresh is failing or a Facebook Login token is expiring, else ok."},
						"accounts_health_findings":     {Type: framework.TypeStringSlice, Description: "What made accounts_health what it is: counts by status, never a name."},
						"notifications":                {Type: framework.TypeMap, Description: "The webhook outbox (docs/notifications.md): enabled (notify_url set), pending, delivered, failed_attempts, dropped_expired, dropped_backlog, oldest_pending_age_seconds, and loaded (false until this node read the events stored before it started; pending is partial until then). The counters count since the plugin started."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathStatusHelpSyn,
		HelpDescription: pathStatusHelpDesc,
	}}
}

func (b *backend) pathStatusRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := b.readConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	sched := b.sched.Figures()
	st := b.stats.snapshot()
	pausedUntil, pauseReason := b.appPaused(b.clock.Now())
	resp := &logical.Response{Data: map[string]any{
		"version":                  Version,
		"configured":               cfg != nil,
		"accounts_total":           sched.Total,
		"accounts_valid":           sched.ByStatus[statusValid],
		"accounts_expiring":        sched.ByStatus[statusExpiring],
		"accounts_refresh_failing": sched.ByStatus[statusRefreshFailing],
		"accounts_needs_reauth":    sched.ByStatus[statusNeedsReauth],
		"next_refresh_at":          formatTime(sched.NextDue),
		"started_at":               formatTime(st.startedAt),
		"last_run_at":              formatTime(st.lastTickAt),
		"last_run_duration_ms":     int64(st.lastTickDuration / time.Millisecond),
		"last_run_refreshed":       st.lastTickRefreshed,
		"last_run_failed":          st.lastTickFailed,
		"periodic_runs":            st.ticks,
		"refreshes_succeeded":      st.refreshesSucceeded,
		"refreshes_failed":         st.refreshesFailed,
		"health_checks_succeeded":  st.healthChecksSucceeded,
		"health_checks_failed":     st.healthChecksFailed,
		"app_paused_until":         formatTime(pausedUntil),
		"app_pause_reason":         pauseReason,
	}}
	resp.Data["notifications"] = b.notifyStatus(cfg) // metrics_notify.go
	b.addAppHealth(resp, cfg)
	b.addAccountsHealth(resp)
	return resp, nil
}
