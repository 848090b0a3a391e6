package instagram

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRaisedMaxAgeDoesNotReopenForgottenRequests: once the sweep forgot
// the requests older than signed_request_max_age, raising the max age
// would let those requests verify again, unremembered: a replay would act
// (and store) anew. The engine keeps the sweep's horizon and refuses every
// request issued before it, on both paths and after a restart, while a
// fresh request still works.
func TestRaisedMaxAgeDoesNotReopenForgottenRequests(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil) // signed_request_max_age: one hour
	u := e.registerFromCode("shop", "shop_user")
	sr := e.signedRequestFor(u.UserID)
	e.deletionOf(sr)
	e.clock.Advance(time.Hour + recordSweepEvery)
	e.tick()
	if got := e.storedKeys(signedRequestStoragePrefix); len(got) != 0 {
		t.Fatalf("the sweep kept %v", got)
	}
	e.mustOK(e.write("config", map[string]any{"signed_request_max_age": "24h"}))
	if !slices.Contains(e.b.PathsSpecial.LocalStorage, signedRequestHorizonPath) {
		t.Errorf("%s is not local storage", signedRequestHorizonPath)
	}

	for _, restart := range []bool{false, true} {
		if restart {
			e.restart()
		}
		before := e.storageSnapshot()
		for _, path := range []string{"data-deletion", "deauthorize"} {
			a := e.postSignedRequest(path, map[string]any{"signed_request": sr})
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "signed_request") || !strings.Contains(a.body, "forgot") {
				t.Errorf("%s of a forgotten request (restart %v) answered %d %s, want a 400 saying it is older than what the engine remembers", path, restart, a.status, a.body)
			}
		}
		if after := e.storageSnapshot(); len(after) != len(before) {
			t.Errorf("a forgotten request's replay stored something (restart %v)", restart)
		}
	}
	e.registerFromCode("brand", "brand_user")
	if a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.signedRequestFor(u.UserID)}); a.status != http.StatusOK {
		t.Errorf("a fresh request answered %d %s", a.status, a.body)
	}
}
