package instagram

import (
	"context"
	"encoding/base64"
	"errors"
	"math/bits"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestStateStoredHashed(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	var states []string
	for _, acct := range []string{"shop", "brand", "shop"} {
		_, st := e.authURL(map[string]any{"account": acct})
		states = append(states, st)
	}
	snap := e.storageSnapshot()
	for _, st := range states {
		key := stateStoragePrefix + hashState(st)
		if _, ok := snap[key]; !ok {
			t.Errorf("no entry under the state's hash; keys: %v", keysOf(snap))
		}
		for k, v := range snap {
			if strings.Contains(k, st) || strings.Contains(v, st) {
				t.Errorf("storage entry %s holds a raw state", k)
			}
		}
	}
	if n := len(e.listStates()); n != len(states) {
		t.Errorf("%d states stored, want %d", n, len(states))
	}
	// The record says what the state was for, and no more.
	rec, err := loadState(context.Background(), e.storage, hashState(states[1]))
	if err != nil || rec == nil {
		t.Fatalf("loadState: %v %v", rec, err)
	}
	if rec.Account != "brand" || rec.RedirectURI != testRedirectURI || rec.Hash != hashState(states[1]) ||
		!rec.ExpiresAt.Equal(e.clock.Now().Add(defaultStateTTL)) {
		t.Errorf("stored state = %+v", rec)
	}
}

func TestStateSingleUse(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	_, st := e.authURL(map[string]any{"account": "shop"})
	ctx := context.Background()

	got, err := e.b.consumeState(ctx, e.storage, st)
	if err != nil || got == nil || got.Account != "shop" {
		t.Fatalf("first use: %+v, %v", got, err)
	}
	if n := len(e.listStates()); n != 0 {
		t.Errorf("%d states left after use", n)
	}
	if _, err := e.b.consumeState(ctx, e.storage, st); !errors.Is(err, errStateUnknown) {
		t.Errorf("second use: %v, want errStateUnknown", err)
	}
	// Neither the hash (what storage holds) nor near misses pass.
	_, other := e.authURL(map[string]any{"account": "shop"})
	for _, v := range []string{hashState(other), other[:len(other)-1], other + "A", strings.ToUpper(other), "", strings.Repeat("A", maxStateLength+1)} {
		if _, err := e.b.consumeState(ctx, e.storage, v); !errors.Is(err, errStateUnknown) {
			t.Errorf("consumeState(%q) = %v, want errStateUnknown", v, err)
		}
	}
	if got, err := e.b.consumeState(ctx, e.storage, other); err != nil || got == nil {
		t.Errorf("the real state no longer works after near misses: %v", err)
	}
}

func TestStateExpiresAfterTTL(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"state_ttl": "10m"})
	ctx := context.Background()
	_, early := e.authURL(map[string]any{"account": "shop"})
	_, late := e.authURL(map[string]any{"account": "shop"})

	e.clock.Advance(10*time.Minute - time.Second)
	if got, err := e.b.consumeState(ctx, e.storage, early); err != nil || got == nil {
		t.Fatalf("a state one second before state_ttl: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.b.consumeState(ctx, e.storage, late); !errors.Is(err, errStateExpired) {
		t.Fatalf("a state at state_ttl: %v, want errStateExpired", err)
	}
	// Refused and deleted: it is unknown from now on.
	if _, err := e.b.consumeState(ctx, e.storage, late); !errors.Is(err, errStateUnknown) {
		t.Errorf("an expired state used again: %v, want errStateUnknown", err)
	}
	if n := len(e.listStates()); n != 0 {
		t.Errorf("%d states left", n)
	}
}

func TestStateSweep(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"state_ttl": "10m"})
	_, first := e.authURL(map[string]any{"account": "first"})
	e.clock.Advance(4 * time.Minute)
	_, second := e.authURL(map[string]any{"account": "second"})

	e.tick() // nothing expired yet
	if got := len(e.listStates()); got != 2 {
		t.Fatalf("%d states after a sweep with none expired, want 2", got)
	}
	// Sweeps are at least stateSweepEvery (5 minutes) apart.
	e.clock.Advance(6 * time.Minute) // first: at its expiry; second: 4 minutes left
	e.tick()
	if got := e.listStates(); !reflect.DeepEqual(got, []string{hashState(second)}) {
		t.Fatalf("states = %v, want only the unexpired %s", got, hashState(second))
	}
	if _, err := e.b.consumeState(context.Background(), e.storage, first); !errors.Is(err, errStateUnknown) {
		t.Errorf("a swept state: %v, want errStateUnknown", err)
	}
	e.clock.Advance(6 * time.Minute)
	e.tick()
	if got := e.listStates(); len(got) != 0 {
		t.Fatalf("states = %v after both expired, want none", got)
	}
	if !strings.Contains(e.logs.String(), "deleted expired authorization states") {
		t.Error("the sweep is not logged")
	}
}

func TestStateSweepDropsUndecodableRecords(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	if err := e.storage.Put(context.Background(), &logical.StorageEntry{Key: stateStoragePrefix + "junk", Value: []byte("not json")}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	if got := e.listStates(); len(got) != 0 {
		t.Errorf("states = %v, want the undecodable one gone", got)
	}
}

// TestStateEntropy checks the encoded values: at least 128 bits each,
// all distinct, and bits that look random (about half set overall).
func TestStateEntropy(t *testing.T) {
	const n = 512
	seen := map[string]bool{}
	ones, total := 0, 0
	for range n {
		v, err := newStateValue()
		if err != nil {
			t.Fatal(err)
		}
		if seen[v] {
			t.Fatalf("state %q generated twice", v)
		}
		seen[v] = true
		if len(v) < 22 { // 22 base64 characters carry 132 bits
			t.Fatalf("state %q is too short to carry 128 bits", v)
		}
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("state %q is not unpadded base64url: %v", v, err)
		}
		if len(raw)*8 < 128 {
			t.Fatalf("state carries %d bits, want at least 128", len(raw)*8)
		}
		for _, b := range raw {
			ones += bits.OnesCount8(b)
		}
		total += len(raw) * 8
	}
	// 131072 fair bits: the share of ones is within 1% of half by a wide
	// margin (about 7 standard deviations).
	if share := float64(ones) / float64(total); share < 0.49 || share > 0.51 {
		t.Errorf("%.4f of the state bits are set, want about half", share)
	}
}
