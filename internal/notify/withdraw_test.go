package notify

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

// An event withdrawn (the change it announced could not be stored) leaves
// storage and the backlog and is never sent; its account's other events
// are.
func TestWithdrawnEventIsNeverSentAndLeavesStorage(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore()
	rcv := newReceiver(t, always(http.StatusOK))
	o := testOutbox(clock, Options{})
	defer o.Close()
	kept := enqueue(t, o, store, NeedsReauth, "shop")
	gone := enqueue(t, o, store, Reauthorized, "shop")

	ok, err := o.Withdraw(context.Background(), store, "shop", gone.ID)
	if err != nil || !ok {
		t.Fatalf("Withdraw = %v, %v; want true, nil", ok, err)
	}
	if got := store.storedIDs(t); !slices.Equal(got, []string{kept.ID}) {
		t.Fatalf("stored after the withdrawal: %v, want only %s", got, kept.ID)
	}
	if f := o.Figures(); f.Pending != 1 {
		t.Fatalf("pending = %d, want 1", f.Pending)
	}
	runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})
	if got := rcv.ids(); !slices.Equal(got, []string{kept.ID}) {
		t.Fatalf("received %v, want only %s", got, kept.ID)
	}
	// Delivered already: nothing left to withdraw.
	if ok, err := o.Withdraw(context.Background(), store, "shop", kept.ID); ok || err != nil {
		t.Fatalf("Withdraw of a delivered event = %v, %v; want false, nil", ok, err)
	}
}
