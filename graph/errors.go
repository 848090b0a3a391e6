package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxMessageBytes bounds the message of an Error: Meta's run to a few
// hundred bytes, and a longer one (up to the 1 MiB response bound) would
// otherwise be stored on an account, logged and answered whole.
const MaxMessageBytes = 1024

// Error is an error answer from Meta, in any of the shapes Meta uses: the
// Graph object {"error":{"message","type","code","error_subcode",...}}, the
// flat {"error_type","code","error_message"} of api.instagram.com, the
// OAuth 2.0 {"error","error_description"}, or a bare HTTP status.
// Use errors.As to get it and Classify to decide what to do.
type Error struct {
	HTTPStatus    int
	Code, Subcode int
	Type          string
	Message       string // Meta's message, with the request's secrets redacted
	FBTraceID     string
	IsTransient   bool
	// RetryAfter is how long Meta asks the caller to wait: Retry-After, or
	// the X-Business-Use-Case-Usage estimated_time_to_regain_access; 0 if none.
	RetryAfter time.Duration
	// Usage is the parsed X-App-Usage / X-Business-Use-Case-Usage, nil when
	// Meta sent neither.
	Usage *Usage
}

// Error formats e as, for example,
// `instagram: OAuthException (code 190, subcode 463): <message>`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("instagram: ")
	switch {
	case e.Type != "":
		b.WriteString(e.Type)
	case e.Code != 0:
		b.WriteString("error")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
		if t := http.StatusText(e.HTTPStatus); t != "" {
			b.WriteString(" " + t)
		}
	}
	switch {
	case e.Code != 0 && e.Subcode != 0:
		fmt.Fprintf(&b, " (code %d, subcode %d)", e.Code, e.Subcode)
	case e.Code != 0:
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// parseError returns the error a response carries, or nil for a successful
// response without one. Any non-2xx status is an error even when its body
// is not JSON (a proxy's HTML page). Secrets are redacted from the strings
// Meta sent.
func parseError(status int, header http.Header, body []byte, secrets []string) *Error {
	e := errorFromBody(status, body)
	if e == nil {
		if status >= 200 && status <= 299 {
			return nil
		}
		e = &Error{HTTPStatus: status}
	}
	if e.FBTraceID == "" {
		e.FBTraceID = header.Get("X-Fb-Trace-Id")
	}
	e.Usage = parseUsage(header)
	e.RetryAfter = retryAfter(header, e.Usage)
	e.scrub(secrets)
	return e
}

// errorFromBody recognises the three JSON error shapes; nil if body is none
// of them. Fields are read one by one, so that one odd field (a code sent
// as a string, say) does not lose the others.
func errorFromBody(status int, body []byte) *Error {
	if !mayHoldError(body) {
		// Most answers are successes: spare them a second full decode
		// (the proxy decodes each answer once more, for the caller).
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	if raw, ok := top["error"]; ok && !isNull(raw) {
		if e := errorFromObject(status, raw); e != nil {
			return e
		}
		// OAuth 2.0 shape: "error" is a code string.
		var code string
		if json.Unmarshal(raw, &code) == nil && code != "" {
			return &Error{HTTPStatus: status, Type: code, Message: stringField(top, "error_description")}
		}
	}
	if _, ok := top["error_type"]; ok {
		return flatError(status, top)
	}
	if _, ok := top["error_message"]; ok {
		return flatError(status, top)
	}
	return nil
}

// mayHoldError reports whether body could hold a top-level key of one of
// the error shapes (error, error_type, error_message): each is spelled
// "error..." unless JSON escapes write it, and a body with no escape at
// all writes every key as it is.
func mayHoldError(body []byte) bool {
	return bytes.Contains(body, []byte("error")) || bytes.IndexByte(body, '\\') >= 0
}

// errorFromObject decodes the Graph error object; nil if raw is not an object.
func errorFromObject(status int, raw json.RawMessage) *Error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil
	}
	e := &Error{
		HTTPStatus:  status,
		Code:        intField(obj, "code"),
		Subcode:     intField(obj, "error_subcode"),
		Type:        stringField(obj, "type"),
		Message:     stringField(obj, "message"),
		FBTraceID:   stringField(obj, "fbtrace_id"),
		IsTransient: boolField(obj, "is_transient"),
	}
	if e.Subcode == 0 {
		e.Subcode = intField(obj, "subcode") // debug_token's spelling
	}
	return e
}

// flatError decodes api.instagram.com's {"error_type","code","error_message"}.
func flatError(status int, top map[string]json.RawMessage) *Error {
	return &Error{
		HTTPStatus: status,
		Code:       intField(top, "code"),
		Type:       stringField(top, "error_type"),
		Message:    stringField(top, "error_message"),
	}
}

// scrub redacts secrets from the texts Meta sent, then cuts them
// (MaxMessageBytes for the message, maxShortText for the others): in this
// order, so that a cut never leaves the start of a secret it split.
func (e *Error) scrub(secrets []string) {
	e.Message = CutText(Redact(e.Message, secrets...), MaxMessageBytes)
	e.Type = CutText(Redact(e.Type, secrets...), maxShortText)
	e.FBTraceID = CutText(Redact(e.FBTraceID, secrets...), maxShortText)
}

// maxShortText bounds the short texts of an Error (a type such as
// OAuthException, a trace id).
const maxShortText = 128

// CutText returns s cut to at most n bytes on a rune boundary, with "…"
// appended when it was cut: how the engine shortens any text it keeps or
// shows of what came from outside (Meta's answers, a caller's parameters).
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func stringField(m map[string]json.RawMessage, key string) string {
	var s string
	if json.Unmarshal(m[key], &s) != nil {
		return ""
	}
	return s
}

func intField(m map[string]json.RawMessage, key string) int {
	var n flexInt
	if json.Unmarshal(m[key], &n) != nil || int64(n) != int64(int(n)) {
		return 0
	}
	return int(n)
}

func boolField(m map[string]json.RawMessage, key string) bool {
	var b bool
	if json.Unmarshal(m[key], &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(m[key], &s) == nil {
		b, _ = strconv.ParseBool(s)
	}
	return b
}
