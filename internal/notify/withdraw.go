package notify

import (
	"context"
	"fmt"
)

// Withdraw takes back the event with id that Enqueue stored for account
// ("" for an app event), when the change it announces could not be stored
// after all: the plugin enqueues an event before writing the change it is
// about (so that a crash between the two cannot lose it), and withdraws it
// when that write fails. It reports whether the event was withdrawn: false
// when it is not pending any more (delivered already) or an attempt to
// deliver it is under way, in which case it stays as it is.
func (o *Outbox) Withdraw(ctx context.Context, s Store, account, id string) (bool, error) {
	o.mu.Lock()
	var found *entry
	if q := o.idx.accounts[account]; q != nil {
		for i, e := range q.entries {
			if _, eid, ok := parseEventKey(e.key); ok && eid == id {
				if !e.ready || (i == 0 && q.busy) {
					o.mu.Unlock()
					return false, nil
				}
				found = e
				break
			}
		}
	}
	if found == nil {
		o.mu.Unlock()
		return false, nil
	}
	o.idx.remove(found)
	o.cond.Broadcast()
	o.mu.Unlock()
	if err := s.Delete(ctx, StoragePrefix+found.key); err != nil {
		return true, fmt.Errorf("notify: deleting a withdrawn event: %w", err)
	}
	return true, nil
}
