package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Store is the storage the outbox keeps its events in: the shape of Vault's
// logical.Storage, with plain bytes for values, so that the plugin passes a
// four-line adapter and this package imports nothing of Vault.
type Store interface {
	// Get returns key's value, or nil and no error when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	// List returns the keys directly under prefix, without the prefix.
	List(ctx context.Context, prefix string) ([]string, error)
}

// StoragePrefix is where the outbox keeps its events: one key per event,
// StoragePrefix + 16 hex digits of a sequence number + "-" + the event id,
// the event's JSON body as the value. The sequence number orders events
// (per account and for dropping the oldest); it is the time of the enqueue
// in Unix nanoseconds, raised past every number already used, so that it
// keeps growing across restarts and leader changes without a counter of
// its own in storage.
//
// The plugin should list it among its local (non-replicated) paths: events
// are delivered only where the refreshes run, and an event may carry a
// consent link.
const StoragePrefix = "notify/outbox/"

// eventKey is the storage key (without StoragePrefix) of the event with
// sequence number seq and id.
func eventKey(seq uint64, id string) string {
	return fmt.Sprintf("%016x-%s", seq, id)
}

// parseEventKey is eventKey's inverse; ok is false for a key the outbox did
// not write.
func parseEventKey(key string) (seq uint64, id string, ok bool) {
	hexSeq, id, found := strings.Cut(key, "-")
	if !found || len(hexSeq) != 16 || id == "" {
		return 0, "", false
	}
	seq, err := strconv.ParseUint(hexSeq, 16, 64)
	if err != nil {
		return 0, "", false
	}
	return seq, id, true
}
