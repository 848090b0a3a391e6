package graph

import (
	"errors"
	"strings"
	"time"
)

// AppProblemKind is what is wrong with the Meta app as a whole.
type AppProblemKind string

const (
	// AppThrottled: the app is over its rate limit (code 4, "API Too Many
	// Calls", and 341, "Application limit reached"). Every call fails
	// until the limit's window has passed.
	AppThrottled AppProblemKind = "throttled"
	// AppBlocked: code 368, "Temporarily blocked for policies violations".
	AppBlocked AppProblemKind = "blocked"
	// AppRestricted: the app lacks a capability (code 3, "API Method:
	// capability or permissions issue"); only the app's developer can fix
	// it, in the App Dashboard or App Review. Code 10 ("Application does
	// not have permission for this action") is not one: Meta documents it
	// as a permission not granted or removed, which the account's owner
	// fixes by authorizing again.
	AppRestricted AppProblemKind = "restricted"
	// AppDeactivated: Meta no longer accepts the app itself ("Error
	// validating application", "Application has been deleted"): deleted,
	// disabled, or a wrong app_id.
	AppDeactivated AppProblemKind = "deactivated"
	// AppDevelopmentMode: the app is in development mode and the account
	// is not one of its testers ("Insufficient developer role", "App not
	// active").
	AppDevelopmentMode AppProblemKind = "development_mode"
)

// AllAppProblemKinds lists every kind, for metrics that report each one.
func AllAppProblemKinds() []AppProblemKind {
	return []AppProblemKind{AppThrottled, AppBlocked, AppRestricted, AppDeactivated, AppDevelopmentMode}
}

// AppProblem is an answer from Meta that concerns the app rather than the
// token it came with: retrying the call for another account would fail the
// same way, and re-authorizing the account would not help.
type AppProblem struct {
	Kind          AppProblemKind
	Code, Subcode int
	Message       string   // Meta's message, secrets redacted
	Endpoint      Endpoint // the call that met it, when observed (Observer)
	// RetryAfter is how long Meta asked the app to wait, 0 if it did not say.
	RetryAfter time.Duration
}

// Meta documents these codes as concerning the app (developers.facebook.com
// /docs/graph-api/guides/error-handling and .../overview/rate-limiting).
const (
	CodeAppCapability      = 3   // API Method: capability or permissions issue
	CodeAppLimitReached    = 341 // Application limit reached
	CodeAppBlockedByPolicy = 368 // Temporarily blocked for policies violations
)

// appMessages are the messages that mark an app-level problem where Meta
// documents no code of its own: a deleted, disabled or development-mode app
// is answered with the codes of token errors (190, 200) or the flat
// shape's 400. Matched case-insensitively, by substring.
var appMessages = []struct {
	substr string
	kind   AppProblemKind
}{
	{"error validating application", AppDeactivated},
	{"application has been deleted", AppDeactivated},
	{"app has been deactivated", AppDeactivated},
	{"app is disabled", AppDeactivated},
	{"insufficient developer role", AppDevelopmentMode},
	{"in development mode", AppDevelopmentMode},
	{"app not active", AppDevelopmentMode},
	{"application does not have the capability", AppRestricted},
}

// AppProblemOf reports whether err is an answer about the app as a whole,
// and which. Throttling of one account or Page (codes 17, 32, 613, 80002)
// and token errors are not.
func AppProblemOf(err error) (AppProblem, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return AppProblem{}, false
	}
	p := AppProblem{Code: e.Code, Subcode: e.Subcode, Message: e.Message, RetryAfter: e.RetryAfter}
	switch e.Code {
	case CodeAppThrottled, CodeAppLimitReached:
		p.Kind = AppThrottled
		return p, true
	case CodeAppBlockedByPolicy:
		p.Kind = AppBlocked
		return p, true
	case CodeAppCapability:
		p.Kind = AppRestricted
		return p, true
	}
	msg := strings.ToLower(e.Message)
	for _, m := range appMessages {
		if strings.Contains(msg, m.substr) {
			p.Kind = m.kind
			return p, true
		}
	}
	return AppProblem{}, false
}
