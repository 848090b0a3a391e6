package instagram

import (
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
)

// defaultEmptyBaseURLs puts each *_base_url field a write gave empty (or
// as spaces) back to Meta's host. An empty base URL could only be refused
// (there is nothing to send to), and `api_base_url=` is how an operator
// naturally says "back to the default" after pointing a field at a proxy
// or a test host; without this they would have to know and type Meta's
// URL. A field the write did not give keeps its stored value.
func defaultEmptyBaseURLs(cfg *config, d *framework.FieldData) {
	defaults := defaultConfig().baseURLFields()
	for i, f := range cfg.baseURLFields() {
		if v, ok := d.GetOk(f.name); ok && strings.TrimSpace(v.(string)) == "" {
			*f.value = *defaults[i].value
		}
	}
}
