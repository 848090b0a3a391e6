package graph

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// AppSecretProof returns hex(HMAC-SHA256(key=appSecret, msg=token)), the
// appsecret_proof parameter Graph calls carry. It proves the call comes from
// a holder of the app secret, so a leaked token alone is useless to apps
// that turn on "Require App Secret".
func AppSecretProof(appSecret, token string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}
