package graph

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestAppProblemOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want AppProblemKind // "": not an app problem
	}{
		{"code 4 app throttled", &Error{Code: 4, Message: "(#4) Application request limit reached", RetryAfter: time.Minute}, AppThrottled},
		{"code 341 application limit reached", &Error{Code: 341, Message: "Application limit reached"}, AppThrottled},
		{"code 368 blocked for policy violations", &Error{Code: 368, Message: "Temporarily blocked for policies violations"}, AppBlocked},
		{"code 3 capability", &Error{Code: 3, Message: "(#3) Application does not have the capability to make this API call."}, AppRestricted},
		{"deleted app, code 190", &Error{Code: 190, Type: "OAuthException", Message: "Error validating application. Application has been deleted."}, AppDeactivated},
		{"invalid app id, code 190", &Error{Code: 190, Message: "Error validating application. Invalid application ID."}, AppDeactivated},
		{"flat: insufficient developer role", &Error{HTTPStatus: 400, Code: 400, Type: "OAuthException", Message: "Insufficient developer role"}, AppDevelopmentMode},
		{"app not active", &Error{Code: 200, Message: "(#200) App not active: this app is not currently accessible"}, AppDevelopmentMode},
		{"wrapped", fmt.Errorf("refreshing: %w", &Error{Code: 4}), AppThrottled},

		{"code 17 user throttled", &Error{Code: 17, Message: "(#17) User request limit reached"}, ""},
		{"code 32 page throttled", &Error{Code: 32}, ""},
		{"code 80002 one account", &Error{Code: 80002, Type: "IGApiException"}, ""},
		{"code 190 expired token", &Error{Code: 190, Subcode: 463, Message: "Error validating access token: Session has expired"}, ""},
		{"code 10 permission removed", &Error{Code: 10, Message: "(#10) Application does not have permission for this action"}, ""},
		{"code 1 unknown", &Error{Code: 1, Message: "An unknown error occurred"}, ""},
		{"not a Meta answer", errors.New("dial tcp: connection refused"), ""},
		{"nil", nil, ""},
	}
	for _, tc := range tests {
		p, ok := AppProblemOf(tc.err)
		if ok != (tc.want != "") || p.Kind != tc.want {
			t.Errorf("%s: AppProblemOf = %+v, %v; want kind %q", tc.name, p, ok, tc.want)
		}
	}
	p, _ := AppProblemOf(&Error{Code: 4, Subcode: 2, Message: "m", RetryAfter: time.Minute})
	if p.Code != 4 || p.Subcode != 2 || p.Message != "m" || p.RetryAfter != time.Minute {
		t.Errorf("the problem does not carry the answer's figures: %+v", p)
	}
	if c := Classify(&Error{HTTPStatus: 400, Code: 341}); c != ClassThrottled {
		t.Errorf("code 341 classified %s, want throttled (wait and retry)", c)
	}
}
