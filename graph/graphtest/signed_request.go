package graphtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// SignRequest builds a signed_request as Meta does: unpadded base64url of the
// signature over the unpadded base64url payload text. A string payload is
// used as it is; anything else is JSON-encoded.
func SignRequest(secret string, payload any) string {
	var raw []byte
	switch p := payload.(type) {
	case string:
		raw = []byte(p)
	default:
		raw, _ = json.Marshal(p)
	}
	enc := base64.RawURLEncoding.EncodeToString(raw)
	return SignText(secret, enc)
}

// SignText signs payloadText as it is (already encoded, or deliberately not).
func SignText(secret, payloadText string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(payloadText))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)) + "." + payloadText
}

// MetaPayload is the payload Meta signs for a deauthorize or data deletion
// callback.
func MetaPayload(userID any, issuedAt time.Time) map[string]any {
	return map[string]any{"algorithm": "HMAC-SHA256", "issued_at": issuedAt.Unix(), "user_id": userID}
}

// Padded adds base64 padding to both parts, as some encoders do.
func Padded(sr string) string {
	sig, payload, _ := strings.Cut(sr, ".")
	pad := func(s string) string {
		for len(s)%4 != 0 {
			s += "="
		}
		return s
	}
	return pad(sig) + "." + pad(payload)
}
