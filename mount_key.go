package instagram

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// The mount's own secret: 32 random bytes, generated once by the node that
// can write (the primary's active node) when a mount first starts, stored
// seal-wrapped and replicated like the accounts, so that every node of
// every cluster, after every restart and failover, derives the same keys
// from it. Each use gets its own key, an HMAC-SHA256 of the secret over a
// label:
//
//   - the schedule index's shard choice (schedule.ShardKey): which names
//     share a shard cannot be computed from outside (issue 22, finding 5);
//   - the confirmation codes of data deletion requests that found nothing
//     to delete, which are derived rather than stored (nothing_held.go).
//
// It is never answered, logged or changed: changing it would re-shard the
// index and void every derived confirmation code.

const mountKeyPath = "mount-key"

const mountKeyBytes = 32

// Labels of the derived keys.
const (
	keyLabelShards        = "schedule index shards"
	keyLabelDeletionCodes = "data deletion codes"
)

// errNoMountKey says the mount's key is not stored yet and this node cannot
// write it (a performance standby or secondary before the primary's active
// node started the mount).
var errNoMountKey = errors.New("the mount's key is not written yet: the primary's active node writes it when it starts the mount")

type mountKeyRecord struct {
	Key       []byte    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
}

// loadMountKey returns the mount's key: from memory, else from storage,
// else (where storage is writable) a new one, stored before it is used.
func (b *backend) loadMountKey(ctx context.Context, s logical.Storage) ([]byte, error) {
	b.mountKeyMu.Lock()
	defer b.mountKeyMu.Unlock()
	if b.mountKey != nil {
		return b.mountKey, nil
	}
	entry, err := s.Get(ctx, mountKeyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the mount's key: %w", err)
	}
	var rec mountKeyRecord
	switch {
	case entry != nil:
		if err := entry.DecodeJSON(&rec); err != nil || len(rec.Key) != mountKeyBytes {
			// Never replaced: the index's layout and the codes depend on it.
			return nil, fmt.Errorf("the stored mount key is damaged (%d bytes)", len(rec.Key))
		}
	case !b.WriteSafeReplicationState():
		return nil, errNoMountKey
	default:
		rec = mountKeyRecord{Key: make([]byte, mountKeyBytes), CreatedAt: b.clock.Now()}
		if _, err := rand.Read(rec.Key); err != nil {
			return nil, fmt.Errorf("generating the mount's key: %w", err)
		}
		entry, err := logical.StorageEntryJSON(mountKeyPath, rec)
		if err != nil {
			return nil, err
		}
		if err := s.Put(ctx, entry); err != nil {
			return nil, fmt.Errorf("writing the mount's key: %w", err)
		}
	}
	b.mountKey = rec.Key
	b.sched.SetShardKey(schedule.NewShardKey([16]byte(deriveKey(rec.Key, keyLabelShards))))
	return b.mountKey, nil
}

// deriveKey is the mount key's key for label.
func deriveKey(mountKey []byte, label string) []byte {
	m := hmac.New(sha256.New, mountKey)
	m.Write([]byte(label))
	return m.Sum(nil)
}
