package instagram

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// stateCollector turns what the backend keeps in memory into metrics at
// scrape time: nothing here reads storage or walks the accounts.
type stateCollector struct {
	b *backend

	accounts, missingScopes, expiryMin, ready          *prometheus.Desc
	refreshes, refreshFailures, healthChecks, periodic *prometheus.Desc
	lastRun, startTime, paused                         *prometheus.Desc
	versionExpiry, versionInfo                         *prometheus.Desc
	appProblem, appProblems, buildInfo                 *prometheus.Desc
}

func newStateCollector(b *backend) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vault_instagram_"+name, help, labels, nil)
	}
	return &stateCollector{
		b:             b,
		accounts:      d("accounts", "Registered accounts by status (valid, expiring, refresh_failing, needs_reauth), every status reported, 0 included.", "status"),
		missingScopes: d("accounts_missing_scopes", "Accounts granted fewer scopes than config's scopes (permission drift); accounts whose scopes are unknown are not counted."),
		expiryMin:     d("token_expiry_seconds_min", "Seconds until the soonest expiry among usable tokens (negative: one has expired); absent when no usable token has a known expiry."),
		ready:         d("schedule_ready", "1 once the refresh schedule has been built from storage since the plugin started; until then the account figures are incomplete."),
		refreshes:     d("refreshes_total", "Refreshes since the plugin started (periodic and manual), by result: success or failure.", "result"),
		refreshFailures: d("refresh_failures_total",
			"Failed refreshes since the plugin started, by class: transient (Meta unavailable), throttled, reauth (the owner must authorize again), permanent, app (an app-level problem).", "class"),
		healthChecks: d("health_checks_total", "Token health checks since the plugin started (debug_token for Facebook Login, the daily /me for Instagram Login), by result: success or failure.", "result"),
		periodic:     d("periodic_runs_total", "Periodic runs since the plugin started."),
		lastRun:      d("periodic_last_run_timestamp_seconds", "Unix time of the last periodic run on this node; 0 before the first."),
		startTime:    d("start_time_seconds", "Unix time the plugin started (for the stalled-engine alert)."),
		paused:       d("app_paused_until_timestamp_seconds", "Unix time until which every call to Meta is paused because Meta throttles or blocks the whole app; 0 when no pause is in force."),
		versionExpiry: d("graph_api_version_expiry_timestamp_seconds",
			"Unix time the configured graph_api_version reaches its end of life (Meta's versions changelog); absent when the version is not in the engine's table or no config is stored."),
		versionInfo: d("graph_api_version_info", "1 for the configured graph_api_version; known says whether the engine knows its end of life.", "version", "known"),
		appProblem:  d("app_problem", "1 for the kind of app-level problem Meta reports now (throttled, blocked, restricted, deactivated, development_mode), else 0.", "kind"),
		appProblems: d("app_problems_total", "Answers from Meta that concern the whole app rather than one token, since the plugin started, by kind.", "kind"),
		buildInfo:   d("build_info", "1, labelled with the plugin's version.", "version"),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.accounts, c.missingScopes, c.expiryMin, c.ready, c.refreshes, c.refreshFailures, c.healthChecks,
		c.periodic, c.lastRun, c.startTime, c.paused, c.versionExpiry, c.versionInfo, c.appProblem, c.appProblems, c.buildInfo,
	} {
		ch <- d
	}
}

// refreshFailureClasses are the classes refresh_failures_total always has.
var refreshFailureClasses = []string{
	graph.ClassTransient.String(), graph.ClassThrottled.String(), graph.ClassReauth.String(),
	graph.ClassPermanent.String(), failureClassApp,
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	now := b.clock.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	f := b.sched.Figures()
	for st, n := range f.ByStatus {
		gauge(c.accounts, float64(n), st)
	}
	gauge(c.missingScopes, float64(f.MissingScopes))
	if !f.SoonestExpiry.IsZero() {
		gauge(c.expiryMin, f.SoonestExpiry.Sub(now).Seconds())
	}
	gauge(c.ready, boolFloat(f.Ready))

	st := b.stats.snapshot()
	counter(c.refreshes, st.refreshesSucceeded, "success")
	counter(c.refreshes, st.refreshesFailed, "failure")
	for _, class := range refreshFailureClasses {
		counter(c.refreshFailures, st.refreshFailures[class], class)
	}
	counter(c.healthChecks, st.healthChecksSucceeded, "success")
	counter(c.healthChecks, st.healthChecksFailed, "failure")
	counter(c.periodic, st.ticks)
	gauge(c.lastRun, unixSeconds(st.lastPeriodicAt))
	gauge(c.startTime, unixSeconds(st.startedAt))

	paused := 0.0
	if until, _ := b.appPaused(now); !until.IsZero() {
		paused = unixSeconds(until)
	}
	gauge(c.paused, paused)

	if cfg := b.cachedConfig(); cfg != nil {
		v := graph.LookupVersion(cfg.GraphAPIVersion)
		gauge(c.versionInfo, 1, cfg.GraphAPIVersion, boolLabel(v.Known))
		if !v.Expires.IsZero() {
			gauge(c.versionExpiry, unixSeconds(v.Expires))
		}
	}

	h := b.appHealth.snapshot()
	for _, kind := range graph.AllAppProblemKinds() {
		current := 0.0
		if h.problem != nil && h.problem.Kind == kind {
			current = 1
		}
		gauge(c.appProblem, current, string(kind))
		counter(c.appProblems, h.counts[kind], string(kind))
	}
	gauge(c.buildInfo, 1, Version)
}

func boolFloat(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

func boolLabel(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
