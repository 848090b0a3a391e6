package graph

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
)

// Class is what a token manager should do after an error.
type Class int

const (
	// ClassPermanent: this request will not succeed as sent (bad parameter,
	// wrong app credentials, a used code). Do not retry it unchanged.
	ClassPermanent Class = iota
	// ClassTransient: a network failure, a timeout, a 5xx, or Meta saying
	// so (codes 1 and 2, is_transient). Retry with backoff.
	ClassTransient
	// ClassThrottled: a rate limit (codes 4, 17, 32, 341, 613, 80002).
	// Back off, for at least Error.RetryAfter when set.
	ClassThrottled
	// ClassReauth: the token is dead or lacks a permission (code 190, 10,
	// 200-299). Only the user logging in again helps; stop retrying.
	ClassReauth
)

func (c Class) String() string {
	switch c {
	case ClassPermanent:
		return "permanent"
	case ClassTransient:
		return "transient"
	case ClassThrottled:
		return "throttled"
	case ClassReauth:
		return "reauth"
	}
	return "unknown"
}

// Classify sorts an error from this package into a Class. Meta's code wins
// over the HTTP status (Meta answers most errors with 400 and some
// transient ones with 500), then is_transient, then the status. Transport
// failures, timeouts and cancellation are transient: nothing was decided
// about the token. So are oversize and undecodable answers, which come from
// a broken intermediary or a Meta incident rather than a verdict on the
// token. Classify(nil) is ClassPermanent; do not ask.
func Classify(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.class()
	}
	switch {
	case err == nil:
		return ClassPermanent
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrResponseTooLarge), errors.Is(err, ErrMalformedResponse),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ClassTransient
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return ClassTransient
	}
	return ClassPermanent
}

// Graph error codes a token manager acts on (Meta's Graph API error-handling
// page; docs/how-it-works.md says what the engine does with each).
const (
	CodeUnknown              = 1
	CodeService              = 2
	CodeAppThrottled         = 4 // the whole app is over its rate limit
	CodePermission           = 10
	CodeUserThrottled        = 17 // one user (account) is over its limit
	CodePageThrottled        = 32
	CodeInvalidParameter     = 100
	CodeInvalidToken         = 190
	CodeCustomThrottled      = 613
	CodeBusinessUseThrottled = 80002
)

func (e *Error) class() Class {
	switch c := e.Code; {
	case c == CodeAppThrottled || c == CodeUserThrottled || c == CodePageThrottled ||
		c == CodeCustomThrottled || c == CodeBusinessUseThrottled || c == CodeAppLimitReached:
		return ClassThrottled
	case c == CodeUnknown || c == CodeService || e.IsTransient:
		return ClassTransient
	case c == CodeInvalidToken || c == CodePermission || (c >= 200 && c <= 299):
		return ClassReauth
	case e.HTTPStatus == 429:
		return ClassThrottled
	case e.HTTPStatus >= 500:
		return ClassTransient
	}
	return ClassPermanent
}
