package instagram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// A data deletion request for a user with no account here deletes nothing,
// and stores nothing either: anyone holding a user's fbsr_<app_id> cookie
// (the JavaScript SDK's, readable on any site of the same app) has a fresh
// valid request whenever the SDK renews it, and a 90-day record for each
// would let them fill storage. Its confirmation code is derived from the
// request instead, so that a replay answers the same code, and the status
// URL can still answer for it ("no data held") without a record:
//
//	bytes 0-3   issued_at, Unix seconds, big-endian
//	bytes 4-7   HMAC(key, "user" | user_id | issued_at): two users' codes differ
//	bytes 8-15  HMAC(key, "code" | bytes 0-7): only this mount makes codes that check
//
// in hex: 32 characters, the shape of a stored deletion's random code. The
// key is the mount key's for deletion codes (mount_key.go). The code says
// when the request was issued and nothing about the user.

const deletionStatusNoData = "no_data_held"

// nothingHeldCode is the derived confirmation code of a deletion request
// that found nothing.
func (b *backend) nothingHeldCode(ctx context.Context, s logical.Storage, sr *graph.SignedRequest) (string, error) {
	key, err := b.deletionCodeKey(ctx, s)
	if err != nil {
		return "", err
	}
	var code [16]byte
	binary.BigEndian.PutUint32(code[:4], uint32(sr.IssuedAt.Unix()))
	user := hmac.New(sha256.New, key)
	user.Write([]byte("user\x00" + sr.UserID + "\x00"))
	user.Write(code[:4])
	copy(code[4:8], user.Sum(nil))
	copy(code[8:], codeMAC(key, code[:8]))
	return hex.EncodeToString(code[:]), nil
}

// nothingHeldIssuedAt checks a confirmation code that is not a stored
// deletion's: if this mount derived it, it returns the request's issue time.
func (b *backend) nothingHeldIssuedAt(ctx context.Context, s logical.Storage, code string) (time.Time, bool, error) {
	raw, err := hex.DecodeString(code)
	if err != nil || len(raw) != 16 {
		return time.Time{}, false, nil
	}
	key, err := b.deletionCodeKey(ctx, s)
	if err != nil {
		return time.Time{}, false, err
	}
	if !hmac.Equal(raw[8:], codeMAC(key, raw[:8])) {
		return time.Time{}, false, nil
	}
	return time.Unix(int64(binary.BigEndian.Uint32(raw[:4])), 0).UTC(), true, nil
}

func codeMAC(key, head []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("code\x00"))
	m.Write(head)
	return m.Sum(nil)[:8]
}

func (b *backend) deletionCodeKey(ctx context.Context, s logical.Storage) ([]byte, error) {
	key, err := b.loadMountKey(ctx, s)
	if err != nil {
		return nil, err
	}
	return deriveKey(key, keyLabelDeletionCodes), nil
}
