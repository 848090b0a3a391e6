package notify

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestVaultEventTypes(t *testing.T) {
	want := map[Type]string{
		NeedsReauth:    "instagram/account-needs-reauth",
		Reauthorized:   "instagram/account-reauthorized",
		RefreshFailing: "instagram/account-refresh-failing",
		Deauthorized:   "instagram/account-deauthorized",
		Deleted:        "instagram/account-deleted",
		AppPaused:      "instagram/app-paused",
		AppResumed:     "instagram/app-resumed",
	}
	for _, typ := range Types {
		if got := VaultEventType(typ); got != want[typ] {
			t.Errorf("VaultEventType(%s) = %s, want %s", typ, got, want[typ])
		}
	}
}

// Vault's event carries what the webhook carries but the consent link.
func TestVaultEventMetadataHasNoConsentLink(t *testing.T) {
	ev := Event{ID: "abc", Type: NeedsReauth, Account: "shop", Status: "needs_reauth",
		At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Reason: "invalidated", ReauthURL: "https://vault.example/consent?state=s"}
	typ, pairs := ev.VaultEvent()
	if typ != "instagram/account-needs-reauth" {
		t.Errorf("type %s", typ)
	}
	want := []string{"id", "abc", "type", "account.needs_reauth", "path", "accounts/shop", "operation", "update",
		"status", "needs_reauth", "at", "2026-03-01T12:00:00Z", "account", "shop", "data_path", "accounts/shop", "reason", "invalidated"}
	if !slices.Equal(pairs, want) {
		t.Errorf("metadata\n%q\nwant\n%q", pairs, want)
	}
	app := Event{ID: "d", Type: AppPaused, Status: "paused", At: ev.At}
	if _, pairs := app.VaultEvent(); !slices.Contains(pairs, "status") || slices.Contains(pairs, "account") {
		t.Errorf("app event metadata %q", pairs)
	}
	if _, pairs := (Event{Type: Deleted, Account: "a"}).VaultEvent(); pairs[7] != "delete" {
		t.Errorf("deleted event operation %q", pairs[7])
	}
}

func TestEventsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		// framework.ErrNoEvents
		{errors.New("no event sender configured"), true},
		// Vault's eventbus.ErrNotStarted, through gRPC
		{errors.New("rpc error: code = Unknown desc = event broker has not been started"), true},
		// a Vault without the plugin events service
		{errors.New("rpc error: code = Unimplemented desc = unknown service pb.Events"), true},
		{errors.New("rpc error: code = Unavailable desc = connection refused"), false},
		{errors.New("namespace not found"), false},
	} {
		if got := EventsUnavailable(tc.err); got != tc.want {
			t.Errorf("EventsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
