package instagram

import (
	"reflect"
	"strings"
	"testing"
)

// TestSignedRequestMaxAgeAndDeletionRecordTTLAreBounded: how long a
// captured signed_request verifies (signed_request_max_age) is at most a
// day and more than nothing, and a deletion's status record lives between
// a day and ten years (deletion_record_ttl): anything else is a 400 naming
// the field that leaves config as it was. The first bounds how long the
// engine must remember each request it accepted, and so what a stream of
// fresh ones can store.
func TestSignedRequestMaxAgeAndDeletionRecordTTLAreBounded(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	before := e.storageSnapshot()
	for field, values := range map[string][]string{
		"signed_request_max_age": {"0s", "-1s", "24h1s", "8760h"},
		"deletion_record_ttl":    {"23h", "87601h"},
	} {
		for _, v := range values {
			resp, err := e.write("config", map[string]any{field: v})
			if err != nil || resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), field) {
				t.Errorf("%s=%s: %v, %v; want a 400 naming the field", field, v, resp, err)
			}
		}
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a refused config write changed storage")
	}
	e.mustOK(e.write("config", map[string]any{"signed_request_max_age": "24h", "deletion_record_ttl": "24h"}))
}
