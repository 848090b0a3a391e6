package instagram

import (
	"context"

	"github.com/hashicorp/vault/sdk/logical"
)

// updateAccount is how a stored account changes: under the account's lock
// (so no refresh, registration or callback of it runs meanwhile), change
// gets the record as stored, nil when there is none, and returns the record
// to save: a clone it changed (records are shared with the cache and must
// not be changed in place), or the stored record or nil to save nothing.
// The record returned is saved even when change also returns an error (a
// failure recorded on the account); updateAccount then answers the saved
// record, or the stored one, and change's error. A failed save answers the
// stored record and the save's error.
func (b *backend) updateAccount(ctx context.Context, s logical.Storage, name string, change func(stored *account) (*account, error)) (*account, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	stored, err := loadAccount(ctx, s, name)
	if err != nil {
		return nil, err
	}
	next, err := change(stored)
	if next == nil || next == stored {
		return stored, err
	}
	if stored != nil {
		// A new record replacing the stored one (a re-authorization)
		// changes the stored status as a clone would (notify_events.go).
		next.savedStatus = stored.Status
	}
	if serr := b.saveAccount(ctx, s, next); serr != nil {
		return stored, serr
	}
	return next, err
}
