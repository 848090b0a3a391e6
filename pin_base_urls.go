package instagram

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Whoever may write config's *_base_url fields may send every token, and on
// code exchanges the app secret, to a host of their choosing (baseurl.go).
// A Vault operator who does not want to trust the config admin with that
// pins them: the plugin, registered with
//
//	vault plugin register -env VAULT_INSTAGRAM_PIN_BASE_URLS=1 ...
//
// (plugin registration needs sudo on sys/plugins/catalog, which a mount's
// config policy does not give), refuses every base URL but Meta's default,
// in a config write and in a config stored before the pin.

// pinBaseURLsEnv names the environment variable that pins the base URLs.
const pinBaseURLsEnv = "VAULT_INSTAGRAM_PIN_BASE_URLS"

// pinBaseURLsFromEnv reads pinBaseURLsEnv as a boolean (unset or empty:
// false). Any other text is an error, failing the mount: an operator who
// meant to pin must not find the plugin running unpinned.
func pinBaseURLsFromEnv() (bool, error) {
	v := strings.TrimSpace(os.Getenv(pinBaseURLsEnv))
	if v == "" {
		return false, nil
	}
	pin, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false (1 or 0), not %q", pinBaseURLsEnv, v)
	}
	return pin, nil
}

// pinnedBaseURLError is a 400 naming the first base URL of cfg that is not
// Meta's default while the base URLs are pinned; nil otherwise. An empty
// field is Meta's default.
func (b *backend) pinnedBaseURLError(cfg *config) error {
	if !b.pinBaseURLs {
		return nil
	}
	defaults := defaultConfig().baseURLFields()
	for i, f := range cfg.baseURLFields() {
		if v := strings.TrimRight(*f.value, "/"); v != "" && v != strings.TrimRight(*defaults[i].value, "/") {
			return badField(f.name, "is pinned to Meta's default (%s) by the plugin's operator (%s in the plugin's environment): no config write can point it elsewhere; write %s=%s",
				*defaults[i].value, pinBaseURLsEnv, f.name, *defaults[i].value)
		}
	}
	return nil
}

// baseURLError is why the engine may send nothing under cfg: a stored base
// URL that breaks the base URL rule, or one the pin refuses; nil if none.
func (b *backend) baseURLError(cfg *config) error {
	if err := cfg.storedBaseURLError(); err != nil {
		return err
	}
	return b.pinnedBaseURLError(cfg)
}
