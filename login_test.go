package instagram

import (
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// TestLoginsAgreeWithTheSchedule: internal/schedule refreshes an account's
// token, or only checks it, by its login's name; each login's own word
// (refreshes) must be the same, or its accounts would be refreshed with no
// refresh grant, or never refreshed. A new login without a refresh grant
// fails here until the schedule learns it.
func TestLoginsAgreeWithTheSchedule(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, l := range logins {
		a := schedule.Account{Login: l.name(), Status: statusValid, RegisteredAt: now, IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime)}
		if refreshed := !a.NextRefreshAt(defaultRefreshWindow).IsZero(); refreshed != l.refreshes() {
			t.Errorf("login %s: refreshes() %v, but the schedule refreshes its accounts: %v", l.name(), l.refreshes(), refreshed)
		}
	}
}

// TestLoginTable: the logins have distinct names, the first (the default)
// is Instagram Login, each names itself and has default scopes, and a name
// no login has is taken as Instagram Login, as before logins had names.
func TestLoginTable(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range logins {
		if seen[l.name()] {
			t.Errorf("two logins named %s", l.name())
		}
		seen[l.name()] = true
		if l.title() == "" || l.product() == "" || len(l.defaultScopes()) == 0 {
			t.Errorf("login %s: title %q, product %q, default scopes %v", l.name(), l.title(), l.product(), l.defaultScopes())
		}
		if loginNamed(l.name()) != l || !knownLogin(l.name()) {
			t.Errorf("login %s is not found by its name", l.name())
		}
	}
	if defaultLoginName != loginInstagram || defaultConfig().Login != loginInstagram {
		t.Errorf("default login %s", defaultLoginName)
	}
	if loginNamed("myspace").name() != loginInstagram || knownLogin("myspace") {
		t.Error("an unknown name is not taken as Instagram Login")
	}
	if got := quotedLoginNames(); got != `"instagram", "facebook" or "threads"` {
		t.Errorf("quotedLoginNames = %s", got)
	}
}

// TestLoginGraphHosts: each login's accounts work against its own
// product's Graph host, as config sets it (a proxy, the fake), never
// another product's.
func TestLoginGraphHosts(t *testing.T) {
	cfg := defaultConfig()
	cfg.GraphBaseURL = "https://ig.example"
	cfg.FacebookGraphBaseURL = "https://fb.example"
	cfg.ThreadsGraphBaseURL = "https://th.example"
	a := &account{}
	for name, want := range map[string]string{loginInstagram: cfg.GraphBaseURL, loginFacebook: cfg.FacebookGraphBaseURL, loginThreads: cfg.ThreadsGraphBaseURL} {
		if got := loginNamed(name).graphHost(cfg, a); got != want {
			t.Errorf("login %s: graph host %s, want %s", name, got, want)
		}
	}
}
