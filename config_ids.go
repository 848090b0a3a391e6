package instagram

import (
	"slices"

	"github.com/hashicorp/vault/sdk/framework"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Facebook Login for Business configurations decide the permissions and
// the kind of token (a system-user token is the business's, not a
// person's) that applications later receive. auth-url takes config_id so
// that one Vault can onboard with several, which would let whoever may
// write auth-url pick any configuration of the app. allowed_config_ids is
// the admin's list: when set, auth-url shows no other configuration and
// the callback registers nothing through one taken off it since the link
// was issued.

// maxAllowedConfigIDs bounds the list: an app has a handful of
// configurations.
const maxAllowedConfigIDs = 100

func allowedConfigIDsField() *framework.FieldSchema {
	return &framework.FieldSchema{
		Type:        framework.TypeCommaStringSlice,
		Description: "login=facebook: the Facebook Login for Business configuration IDs auth-url may show (its config_id, and facebook_config_id, must be one of them); a link issued for one taken off the list registers nothing. Empty: any configuration.",
	}
}

// configIDAllowed reports whether id may be shown and registered through.
func (c *config) configIDAllowed(id string) bool {
	return len(c.AllowedConfigIDs) == 0 || slices.Contains(c.AllowedConfigIDs, id)
}

func applyAllowedConfigIDs(cfg *config, d *framework.FieldData) {
	if v, ok := d.GetOk("allowed_config_ids"); ok {
		cfg.AllowedConfigIDs = cleanScopes(v.([]string)) // trims, drops empties and duplicates
	}
}

// checkAllowedConfigIDs checks the list, and that config's own
// configuration is on it.
func checkAllowedConfigIDs(cfg *config) error {
	if len(cfg.AllowedConfigIDs) > maxAllowedConfigIDs {
		return badField("allowed_config_ids", "holds more than %d IDs", maxAllowedConfigIDs)
	}
	for _, id := range cfg.AllowedConfigIDs {
		if !configIDRegex.MatchString(id) {
			return badField("allowed_config_ids", "%q is not the numeric ID of a Facebook Login for Business configuration", graph.CutText(id, 40))
		}
	}
	if cfg.FacebookConfigID != "" && !cfg.configIDAllowed(cfg.FacebookConfigID) {
		return badField("facebook_config_id", "%s is not in allowed_config_ids", cfg.FacebookConfigID)
	}
	return nil
}

// checkConfigIDAllowed refuses a config_id given to auth-url that the
// admin has not allowed.
func checkConfigIDAllowed(cfg *config, id string) error {
	if id != "" && !cfg.configIDAllowed(id) {
		return badField("config_id", "%s is not one of config's allowed_config_ids", id)
	}
	return nil
}
