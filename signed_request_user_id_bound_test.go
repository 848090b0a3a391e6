package instagram

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestSignedRequestUserIDIsBoundedToThirtyTwoDigits: the user_id of a
// verified signed_request (Meta's ids run to 17 digits) is a decimal id of
// at most 32 digits on both callbacks: a longer one is a 400 that stores
// nothing, whatever signed it.
func TestSignedRequestUserIDIsBoundedToThirtyTwoDigits(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	for _, path := range []string{"deauthorize", "data-deletion"} {
		before := e.storageSnapshot()
		long := e.signedRequestFor(strings.Repeat("1", 33))
		if a := e.postSignedRequest(path, map[string]any{"signed_request": long}); a.status != http.StatusBadRequest || !strings.Contains(a.body, "signed_request") {
			t.Errorf("%s with a 33-digit user_id answered %d %s, want a 400 naming signed_request", path, a.status, a.body)
		}
		if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: a refused request changed storage", path)
		}
		ok := e.signedRequestFor(strings.Repeat("1", 32))
		if a := e.postSignedRequest(path, map[string]any{"signed_request": ok}); a.status != http.StatusOK {
			t.Errorf("%s with a 32-digit user_id answered %d %s, want 200", path, a.status, a.body)
		}
	}
}
