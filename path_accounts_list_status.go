package instagram

import (
	"net/http"
	"slices"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// LIST accounts/ status=<status>: the accounts a person has to act on
// (needs_reauth above all) without reading every account or a wall of
// per-account metrics. The schedule keeps each account's status in memory,
// and the statuses other than valid in name trees of their own
// (internal/schedule/bystatus.go), so a page costs what a plain page does.

// listStatusField is the LIST's status field.
func listStatusField() *framework.FieldSchema {
	return &framework.FieldSchema{
		Type:        framework.TypeString,
		Description: "List only the accounts with this status: " + strings.Join(schedule.AllStatuses, ", ") + "; empty: every account.",
		Query:       true,
	}
}

// listStatus is the status the LIST asks for ("" for every account), or a
// 400 naming status.
func listStatus(d *framework.FieldData) (string, error) {
	status := d.Get("status").(string)
	if status != "" && !slices.Contains(schedule.AllStatuses, status) {
		return "", badField("status", "must be one of %s", strings.Join(schedule.AllStatuses, ", "))
	}
	return status, nil
}

// errStatusesLoading answers a status LIST that comes before the schedule
// is built after a start (about 2 s at a million accounts): memory cannot
// say yet, and reading every account from storage instead would cost
// minutes at that size.
var errStatusesLoading = logical.CodedError(http.StatusServiceUnavailable,
	"the accounts' statuses are still being loaded after a start; retry in a few seconds (schedule_ready on status says when)")

// statusQuery is what the first-page warning repeats of the request so
// that the next page keeps its filter: "status=<status> " or "".
func statusQuery(status string) string {
	if status == "" {
		return ""
	}
	return "status=" + status + " "
}
