package instagram

import (
	"strings"
	"testing"
)

// TestAuthURLRefusalSaysWhoMayReauthorize: onboarding staff who ask for a
// link for a registered name are told more than "pass replace=true",
// which their policy denies: the answer says who can make the
// re-authorization link (an operator, whose policy allows replace=true)
// and that the onboarding policy does not.
func TestAuthURLRefusalSaysWhoMayReauthorize(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	resp, err := e.write("auth-url", map[string]any{"account": "shop"})
	e.mustFail(resp, err, "replace=true")
	var msg string
	if err != nil {
		msg = err.Error()
	} else {
		msg = resp.Error().Error()
	}
	for _, want := range []string{`"shop" is already registered`, "an operator whose policy allows replace=true", "instagram-operator", "instagram-onboarding"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
}
