package instagram

import (
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
)

// The config fields of notifications (docs/notifications.md). notify_url
// names where the engine POSTs events that may carry a consent link, so it
// follows the base URL rule (baseurl.go): https, or http on a loopback
// host, no credentials, query or fragment. A receiver authenticates the
// engine by the signature, not by a secret in its URL. notify_secret is
// write-only like app_secret: a read answers notify_secret_set, and no log
// line or error message ever quotes it.

// maxNotifySecretLength bounds the signing key: HMAC takes any length, but
// the key is stored in config and nothing needs more.
const maxNotifySecretLength = 1024

func notifyConfigFields() map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"notify_url": {
			Type:        framework.TypeString,
			Description: "Where the engine POSTs a signed JSON event on each account or app change (docs/notifications.md): an https URL, or http on a loopback host. Requires notify_secret. Empty: no webhooks.",
		},
		"notify_secret": {
			Type:         framework.TypeString,
			Description:  "The key that signs each event (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>). Write-only: reads answer notify_secret_set. Required with notify_url.",
			DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
		},
		"notify_reauth_links": {
			Type:        framework.TypeBool,
			Description: "Put a fresh, single-use consent link (reauth_url, valid 24 hours, bound to the account's user) in account.needs_reauth events. Requires redirect_uri.",
			Default:     false,
		},
	}
}

// notifyResponseFields makes a config read's schema say notify_secret_set
// instead of notify_secret.
func notifyResponseFields(f map[string]*framework.FieldSchema) {
	delete(f, "notify_secret")
	f["notify_secret_set"] = &framework.FieldSchema{
		Type:        framework.TypeBool,
		Description: "Whether a notify_secret is stored.",
	}
}

// notifyConfigRead is what a config read answers of notifications.
func notifyConfigRead(cfg *config) map[string]any {
	return map[string]any{
		"notify_url":          cfg.NotifyURL,
		"notify_secret_set":   cfg.NotifySecret != "",
		"notify_reauth_links": cfg.NotifyReauthLinks,
	}
}

// applyNotifyConfigFields copies the notification fields a write gives.
func applyNotifyConfigFields(cfg *config, d *framework.FieldData) {
	if v, ok := d.GetOk("notify_url"); ok {
		cfg.NotifyURL = strings.TrimSpace(v.(string))
	}
	if v, ok := d.GetOk("notify_secret"); ok {
		// Taken as given, like app_secret.
		cfg.NotifySecret = v.(string)
	}
	if v, ok := d.GetOk("notify_reauth_links"); ok {
		cfg.NotifyReauthLinks = v.(bool)
	}
}

// validateNotifyConfig checks the notification fields of a config about to
// be stored.
func validateNotifyConfig(cfg *config) error {
	if len(cfg.NotifySecret) > maxNotifySecretLength {
		return badField("notify_secret", "is longer than %d bytes", maxNotifySecretLength)
	}
	if cfg.NotifyURL == "" {
		return nil
	}
	if _, err := checkBaseURL("notify_url", cfg.NotifyURL); err != nil {
		return err
	}
	if cfg.NotifySecret == "" {
		return badField("notify_secret", "is required with notify_url: it signs every event so the receiver can tell the engine's from anyone's")
	}
	if cfg.NotifyReauthLinks && cfg.RedirectURI == "" {
		return badField("notify_reauth_links", "needs redirect_uri: a consent link sends the owner back to this mount's callback")
	}
	return nil
}
