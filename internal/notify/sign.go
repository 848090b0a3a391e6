package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header that carries an event's signature, the one
// Meta's own webhooks use, so a receiver reuses its verification code.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Sign is the SignatureHeader value for body: "sha256=" and the hex
// HMAC-SHA256 of the raw body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	_, _ = m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header (a SignatureHeader value) is body's
// signature under secret. It compares in constant time, and accepts the
// hex digits in either case.
func Verify(secret, body []byte, header string) bool {
	if !strings.HasPrefix(header, signaturePrefix) {
		return false
	}
	got, err := hex.DecodeString(header[len(signaturePrefix):])
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	_, _ = m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
