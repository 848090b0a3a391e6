package notify

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type is an event's type, the "type" field of its JSON body.
type Type string

// The event types. Each names the change that caused it; "status" in the
// body says the account's status after it.
const (
	// NeedsReauth: the account needs its owner to authorize again.
	NeedsReauth Type = "account.needs_reauth"
	// Reauthorized: usable again after needing re-authorization.
	Reauthorized Type = "account.reauthorized"
	// RefreshFailing: the first failed refresh of a streak (later failures
	// of the same streak send nothing).
	RefreshFailing Type = "account.refresh_failing"
	// Deauthorized: the owner removed the app (Meta's deauthorize
	// callback).
	Deauthorized Type = "account.deauthorized"
	// Deleted: the account was deleted from the engine.
	Deleted Type = "account.deleted"
	// AppPaused: Meta throttles the whole app; every account waits.
	AppPaused Type = "app.paused"
	// AppResumed: the app-wide throttle ended.
	AppResumed Type = "app.resumed"
)

// Types is every event type, in the order the documentation lists them.
var Types = []Type{NeedsReauth, Reauthorized, RefreshFailing, Deauthorized, Deleted, AppPaused, AppResumed}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// AppLevel reports whether t is about the app as a whole, so has no
// account.
func (t Type) AppLevel() bool { return t == AppPaused || t == AppResumed }

// Bounds on the text fields. They keep an event (and so the outbox) small
// whatever Meta answered.
const (
	// MaxReasonBytes bounds "reason".
	MaxReasonBytes = 1024
	// maxShortField bounds "account" and "status", which the engine
	// already bounds itself; this is only a backstop.
	maxShortField = 256
)

// Event is one notification, exactly as its JSON body carries it. The
// field order is the body's.
type Event struct {
	// ID is random (128 bits, hex) and the same on every delivery attempt,
	// so a receiver can drop repeats.
	ID   string `json:"id"`
	Type Type   `json:"type"`
	// Account is the account's name; absent for app.* events.
	Account string `json:"account,omitempty"`
	// Status is the account's status after the change ("deleted" for
	// account.deleted; "paused" or "running" for app.* events).
	Status string `json:"status"`
	// At is when the change happened, in UTC (RFC 3339 in the body).
	At time.Time `json:"at"`
	// Reason is why, bounded (MaxReasonBytes) and scrubbed (BoundReason).
	Reason string `json:"reason,omitempty"`
	// ReauthURL is a fresh, single-use consent link for the account, on
	// account.needs_reauth only and only when the operator asked for one.
	// It is a credential of sorts: it goes to the receiver and nowhere
	// else (never a log, never Vault's event system).
	ReauthURL string `json:"reauth_url,omitempty"`
}

// NewID returns a random event id: 128 bits from crypto/rand, as 32 hex
// digits.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("notify: event id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// normalize validates e and bounds its text, setting At from now when it is
// zero. It does not set the id.
func (e *Event) normalize(now time.Time) error {
	if !e.Type.Valid() {
		return fmt.Errorf("notify: unknown event type %q", boundText(string(e.Type), 64))
	}
	if e.Type.AppLevel() {
		e.Account = ""
	} else if e.Account == "" {
		return fmt.Errorf("notify: %s event without an account", e.Type)
	}
	if e.Type != NeedsReauth {
		e.ReauthURL = ""
	}
	e.Account = boundText(e.Account, maxShortField)
	e.Status = boundText(e.Status, maxShortField)
	e.Reason = BoundReason(e.Reason)
	if e.At.IsZero() {
		e.At = now
	}
	// RFC 3339 to the second in UTC: what receivers parse most easily.
	e.At = e.At.UTC().Truncate(time.Second)
	return nil
}

// Body is the event's JSON body, the exact bytes that are signed and sent.
func (e Event) Body() ([]byte, error) {
	return json.Marshal(e)
}

// MarshalJSON writes At as RFC 3339 in UTC to the second, fields in the
// documented order.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireEvent{
		ID: e.ID, Type: e.Type, Account: e.Account, Status: e.Status,
		At: e.At.UTC().Format(time.RFC3339), Reason: e.Reason, ReauthURL: e.ReauthURL,
	})
}

// wireEvent is Event as its body spells it.
type wireEvent struct {
	ID        string `json:"id"`
	Type      Type   `json:"type"`
	Account   string `json:"account,omitempty"`
	Status    string `json:"status"`
	At        string `json:"at"`
	Reason    string `json:"reason,omitempty"`
	ReauthURL string `json:"reauth_url,omitempty"`
}

// secretParam matches a query parameter or field whose value is a
// credential, as it may appear in a URL or message quoted in a reason.
var secretParam = regexp.MustCompile(`(?i)\b(access_token|input_token|fb_exchange_token|client_secret|app_secret|secret|code|state|signed_request|token)=([^&\s"']+)`)

// tokenLike matches a long unbroken run of token characters: Meta's access
// tokens (IGAA..., EAA...), codes and hex state hashes all are one; words,
// numbers and trace ids are far shorter.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9_\-]{32,}`)

// BoundReason makes reason safe to send: valid UTF-8, no control
// characters, anything that looks like a credential replaced with
// "[redacted]", and at most MaxReasonBytes bytes, cut at a character
// boundary. The engine never puts a secret in a reason; this is the
// backstop for text that came from elsewhere (Meta's error messages).
func BoundReason(reason string) string {
	reason = secretParam.ReplaceAllString(reason, "$1=[redacted]")
	reason = tokenLike.ReplaceAllString(reason, "[redacted]")
	return boundText(reason, MaxReasonBytes)
}

// boundText is s as valid UTF-8 without control characters, cut to at most
// max bytes at a character boundary.
func boundText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
