package graph

// Meta's signed_request: what its deauthorize and data deletion callbacks
// post, and how it is verified. Pure protocol; what the engine remembers of
// the requests it accepted (replays, the sweep horizon) is the plugin's.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	// MaxSignedRequestLength bounds what is decoded and hashed; Meta's
	// are a few hundred bytes.
	MaxSignedRequestLength = 8 << 10

	// SignedRequestFutureSkew is how far ahead of this server's clock an
	// issued_at may be: clocks differ a little, never by much.
	SignedRequestFutureSkew = 5 * time.Minute
)

// userIDRegex is the shape of Meta's user ids: decimal text, exceeding 2^53,
// so never handled as a float64.
var userIDRegex = regexp.MustCompile(`^[0-9]{1,32}$`)

// SignedRequest is the verified payload of a Meta signed_request.
type SignedRequest struct {
	UserID   string
	IssuedAt time.Time
	// Hash identifies the request for replay detection: the hex SHA-256
	// of its canonical spelling (the signature re-encoded, the payload
	// text without padding), so every spelling that verifies (padded,
	// with non-zero trailing bits in the signature's last character) is
	// the same request.
	Hash string
}

// SignedRequestError says why a signed_request was refused. Its message
// never quotes the signed_request or any part of it.
type SignedRequestError struct{ Reason SignedRequestReason }

// SignedRequestReason is one of the fixed refusal texts below.
type SignedRequestReason string

// The reasons a signed_request is refused: a closed set of fixed texts, so
// no refusal can ever quote the request. SignedRequestForgotten is the
// plugin's to give: a request that verifies here but was issued before the
// oldest one the engine still remembers.
const (
	srMissing              SignedRequestReason = "is required"
	srTooLong              SignedRequestReason = "is too long"
	srShape                SignedRequestReason = `is not two base64url parts joined by "."`
	srSignatureEncoding    SignedRequestReason = "its signature is not a base64url HMAC-SHA256"
	srSignatureMismatch    SignedRequestReason = "the signature does not match (is it signed with this app's secret?)"
	srPayloadEncoding      SignedRequestReason = "its payload is not base64url"
	srPayloadShape         SignedRequestReason = "its payload is not a JSON object of the expected shape"
	srAlgorithm            SignedRequestReason = "its algorithm is not HMAC-SHA256"
	srIssuedAt             SignedRequestReason = "issued_at is missing or not a Unix time"
	srStale                SignedRequestReason = "it is too old (issued_at is past config's signed_request_max_age)"
	srFuture               SignedRequestReason = "issued_at is in the future"
	srUserID               SignedRequestReason = "user_id is missing or not a decimal id"
	SignedRequestForgotten SignedRequestReason = "it was issued before the oldest request the engine remembers (older ones were forgotten, and may have been acted on)"
)

// signedRequestReasons lists every reason, for tests that check a refusal
// says nothing but one of them.
var signedRequestReasons = []SignedRequestReason{
	srMissing,
	srTooLong,
	srShape,
	srSignatureEncoding,
	srSignatureMismatch,
	srPayloadEncoding,
	srPayloadShape,
	srAlgorithm,
	srIssuedAt,
	srStale,
	srFuture,
	srUserID,
	SignedRequestForgotten,
}

func (e *SignedRequestError) Error() string { return "signed_request: " + string(e.Reason) }

func badSignedRequest(reason SignedRequestReason) error { return &SignedRequestError{Reason: reason} }

// ParseSignedRequest verifies a signed_request, base64url(signature) "."
// base64url(payload) where the signature is HMAC-SHA256 over the payload's
// base64url text keyed with the app secret, and returns its payload. Only a
// fresh request (issued within maxAge of now, and not in the future) for
// algorithm HMAC-SHA256 is accepted.
func ParseSignedRequest(raw, appSecret string, now time.Time, maxAge time.Duration) (*SignedRequest, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case appSecret == "":
		return nil, errors.New("signed_request: no app secret is configured to verify it")
	case raw == "":
		return nil, badSignedRequest(srMissing)
	case len(raw) > MaxSignedRequestLength:
		return nil, badSignedRequest(srTooLong)
	}
	sigText, payloadText, ok := strings.Cut(raw, ".")
	if !ok || strings.Contains(payloadText, ".") {
		return nil, badSignedRequest(srShape)
	}
	sig, err := decodeBase64URL(sigText)
	if err != nil || len(sig) != sha256.Size {
		return nil, badSignedRequest(srSignatureEncoding)
	}
	// The signature is checked before the payload is even decoded: nothing
	// an unauthenticated caller made up gets parsed.
	if !signatureMatches(sig, payloadText, appSecret) {
		return nil, badSignedRequest(srSignatureMismatch)
	}
	payload, err := decodeBase64URL(payloadText)
	if err != nil {
		return nil, badSignedRequest(srPayloadEncoding)
	}
	sr, err := checkPayload(payload, now, maxAge)
	if err != nil {
		return nil, err
	}
	canonical := sha256.Sum256([]byte(base64.RawURLEncoding.EncodeToString(sig) + "." + strings.TrimRight(payloadText, "=")))
	sr.Hash = hex.EncodeToString(canonical[:])
	return sr, nil
}

// signatureMatches compares in constant time. Meta signs the unpadded
// payload text; a copy that gained padding on the way is accepted too.
func signatureMatches(sig []byte, payloadText, appSecret string) bool {
	mac := func(msg string) []byte {
		h := hmac.New(sha256.New, []byte(appSecret))
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	if hmac.Equal(sig, mac(payloadText)) {
		return true
	}
	trimmed := strings.TrimRight(payloadText, "=")
	return trimmed != payloadText && hmac.Equal(sig, mac(trimmed))
}

// decodeBase64URL decodes unpadded base64url, tolerating trailing padding.
func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// checkPayload decodes a verified payload and applies the algorithm and
// freshness rules.
func checkPayload(payload []byte, now time.Time, maxAge time.Duration) (*SignedRequest, error) {
	var p struct {
		Algorithm string          `json:"algorithm"`
		IssuedAt  json.RawMessage `json:"issued_at"`
		UserID    json.RawMessage `json:"user_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, badSignedRequest(srPayloadShape)
	}
	if !strings.EqualFold(p.Algorithm, "HMAC-SHA256") {
		return nil, badSignedRequest(srAlgorithm)
	}
	issued, ok := jsonInteger(p.IssuedAt)
	if !ok {
		return nil, badSignedRequest(srIssuedAt)
	}
	issuedAt := time.Unix(issued, 0).UTC()
	switch {
	case now.Sub(issuedAt) > maxAge:
		return nil, badSignedRequest(srStale)
	case issuedAt.Sub(now) > SignedRequestFutureSkew:
		return nil, badSignedRequest(srFuture)
	}
	userID, ok := jsonDecimalID(p.UserID)
	if !ok {
		return nil, badSignedRequest(srUserID)
	}
	return &SignedRequest{UserID: userID, IssuedAt: issuedAt}, nil
}

// jsonInteger reads a JSON integer, or a string holding one, as int64.
func jsonInteger(raw json.RawMessage) (int64, bool) {
	text, ok := jsonDecimalID(raw)
	if !ok || len(text) > 18 { // beyond any Unix time in seconds; int64 holds 18 digits
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil
}

// jsonDecimalID reads a JSON string or number that is a non-negative decimal
// integer, as its exact text: ids exceed 2^53, and a float64 would round them.
func jsonDecimalID(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	var text string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", false
		}
		text = strings.TrimSpace(text)
	} else {
		text = string(raw) // a JSON number's text; exponents and fractions fail the pattern
	}
	if !userIDRegex.MatchString(text) {
		return "", false
	}
	return text, true
}
