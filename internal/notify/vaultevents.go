package notify

import (
	"strings"
)

// VaultEventPrefix starts the type of every event sent through Vault's own
// event system, so that `vault events subscribe 'instagram/*'` sees them
// all.
const VaultEventPrefix = "instagram/"

// VaultEventType is t's name in Vault's event system: "instagram/" and the
// type with dashes, e.g. "instagram/account-needs-reauth".
func VaultEventType(t Type) string {
	return VaultEventPrefix + strings.NewReplacer(".", "-", "_", "-").Replace(string(t))
}

// VaultEvent is ev as Vault's event system takes it: the event type and
// its metadata as key/value pairs, in the form the SDK's
// logical.SendEvent(ctx, sender, eventType, metadataPairs...) wants. The
// metadata carries what the webhook body carries but the consent link
// (reauth_url, a single-use credential for the receiver alone), and the
// SDK's conventional "path" (the API path a subscriber needs the
// subscribe capability on; Vault prefixes the mount) and "operation".
func (e Event) VaultEvent() (eventType string, metadataPairs []string) {
	path := "status"
	if e.Account != "" {
		path = "accounts/" + e.Account
	}
	operation := "update"
	if e.Type == Deleted {
		operation = "delete"
	}
	pairs := []string{
		"id", e.ID,
		"type", string(e.Type),
		"path", path,
		"operation", operation,
		"status", e.Status,
		"at", e.At.UTC().Format("2006-01-02T15:04:05Z07:00"),
	}
	if e.Account != "" {
		pairs = append(pairs, "account", e.Account, "data_path", path)
	}
	if e.Reason != "" {
		pairs = append(pairs, "reason", e.Reason)
	}
	return VaultEventType(e.Type), pairs
}

// eventsUnavailable are the messages with which sending an event says that
// the server has no event system for the plugin, as opposed to a failure:
// the SDK's framework.ErrNoEvents (a backend set up without an event
// sender), Vault's eventbus.ErrNotStarted, and the gRPC answer of a Vault
// too old to have the plugin events service. Matched as text because over
// the plugin's gRPC connection the error types do not survive.
var eventsUnavailable = []string{
	"no event sender configured",
	"event broker has not been started",
	"unknown service pb.events",
	"code = unimplemented",
}

// EventsUnavailable reports whether err, from sending an event through
// Vault's event system, only means that this Vault has none to send to:
// the engine then carries on quietly.
func EventsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, m := range eventsUnavailable {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
