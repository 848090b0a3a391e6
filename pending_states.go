package instagram

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

const (
	// stateStoragePrefix holds pending authorization states, keyed by the
	// SHA-256 of the state: storage (and a backup of it) never holds a
	// value that would pass the callback. Local (not replicated) storage.
	stateStoragePrefix = "states/"

	// stateBytes is the entropy of a state: 256 bits, well over the 128
	// a guess must beat.
	stateBytes = 32

	// maxStateLength bounds what the callback hashes and looks up; a real
	// state is 43 characters.
	maxStateLength = 256

	// stateSweepEvery spaces out the periodic deletion of expired states:
	// they are refused when used anyway, so the sweep is only housekeeping.
	stateSweepEvery = 5 * time.Minute
)

var (
	errStateUnknown = errors.New("authorization state unknown or already used")
	errStateExpired = errors.New("authorization state expired")
)

// pendingState is an authorization in progress: who asked for which account,
// and where Instagram sends the owner back. It holds no secret.
type pendingState struct {
	Hash        string   `json:"hash"`
	Account     string   `json:"account"`
	Login       string   `json:"login"`
	Scopes      []string `json:"scopes"`
	RedirectURI string   `json:"redirect_uri"`
	// Replace lets the callback replace an account already registered
	// under Account (auth-url's replace).
	Replace bool `json:"replace,omitempty"`
	// AllowUserChange lets that replacement hand the account to another
	// user than the one it belongs to (auth-url's allow_user_change).
	AllowUserChange bool `json:"allow_user_change,omitempty"`
	// ConfigID is the Facebook Login for Business configuration the
	// dialog showed: its code may give a system-user token.
	ConfigID  string    `json:"config_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// replacement is what the callback may do to an account already stored
// under the state's name.
func (st *pendingState) replacement() replacement {
	switch {
	case !st.Replace:
		return replaceNone
	case st.AllowUserChange:
		return replaceAny
	default:
		return replaceSameUser
	}
}

// newStateValue returns a fresh random state, base64url without padding.
func newStateValue() (string, error) {
	b := make([]byte, stateBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// storeState saves a pending state under the hash of its value, unless
// max states are pending already: then it answers 429, saying what to do.
// The count and the write are under stateMu, as every change of the pending
// states is, so racing calls store no more than limit.
func (b *backend) storeState(ctx context.Context, s logical.Storage, st *pendingState, limit int) error {
	entry, err := logical.StorageEntryJSON(stateStoragePrefix+st.Hash, st)
	if err != nil {
		return err
	}
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	n, err := b.countStatesLocked(ctx, s)
	if err != nil {
		return err
	}
	if n >= limit {
		return logical.CodedError(http.StatusTooManyRequests, fmt.Sprintf(
			"%d authorization links are pending (config max_pending_states is %d): wait until some are used or expire (config state_ttl; expired ones are deleted within minutes), or raise max_pending_states", n, limit))
	}
	if err := s.Put(ctx, entry); err != nil {
		return fmt.Errorf("writing authorization state: %w", err)
	}
	b.pendingStates++
	return nil
}

// countStatesLocked is how many states are pending: counted from a listing
// once per backend (a start, a reload, a failover), then kept by every
// change under stateMu, which the caller holds. auth-url and the callback
// run on the primary's active node only (forwarded there), so the count
// that matters lives there.
func (b *backend) countStatesLocked(ctx context.Context, s logical.Storage) (int, error) {
	if !b.pendingCounted {
		keys, err := s.List(ctx, stateStoragePrefix)
		if err != nil {
			return 0, fmt.Errorf("counting authorization states: %w", err)
		}
		b.pendingStates, b.pendingCounted = len(keys), true
	}
	return b.pendingStates, nil
}

// stateGoneLocked counts a state deleted. The caller holds stateMu.
func (b *backend) stateGoneLocked() {
	if b.pendingCounted && b.pendingStates > 0 {
		b.pendingStates--
	}
}

// consumeState finds the pending state for value and deletes it before
// returning it, so that it serves exactly once, even to two callbacks racing
// with the same value. An expired state is deleted too, and refused.
func (b *backend) consumeState(ctx context.Context, s logical.Storage, value string) (*pendingState, error) {
	if value == "" || len(value) > maxStateLength {
		return nil, errStateUnknown
	}
	h := hashState(value)

	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	st, err := loadState(ctx, s, h)
	if err != nil || st == nil {
		if err == nil {
			err = errStateUnknown
		}
		return nil, err
	}
	// The lookup is by hash, so timing it tells nothing about the state;
	// the stored hash is still compared in constant time, in case a record
	// ever sits under a key it does not match.
	if subtle.ConstantTimeCompare([]byte(st.Hash), []byte(h)) != 1 {
		return nil, errStateUnknown
	}
	if err := s.Delete(ctx, stateStoragePrefix+h); err != nil {
		return nil, fmt.Errorf("deleting authorization state: %w", err)
	}
	b.stateGoneLocked()
	if !b.clock.Now().Before(st.ExpiresAt) {
		return nil, errStateExpired
	}
	return st, nil
}

func loadState(ctx context.Context, s logical.Storage, h string) (*pendingState, error) {
	entry, err := s.Get(ctx, stateStoragePrefix+h)
	if err != nil {
		return nil, fmt.Errorf("reading authorization state: %w", err)
	}
	if entry == nil {
		return nil, nil
	}
	st := &pendingState{}
	if err := entry.DecodeJSON(st); err != nil {
		return nil, fmt.Errorf("decoding authorization state: %w", err)
	}
	return st, nil
}

// sweepExpiredStates deletes expired pending states, every stateSweepEvery
// or, while the last sweep stopped at its bound, at every run. Like the
// callbacks' record sweeps it examines at most maxRecordSweep states a run,
// from where the last one stopped (states are keyed by hash, so each must
// be read to know its age), and with none pending it does not even list
// them. Failures are logged and retried at the next sweep: the callback
// refuses expired states whether or not they have been swept.
func (b *backend) sweepExpiredStates(ctx context.Context, s logical.Storage, now time.Time) {
	if last := b.lastStateSweep.Load(); last != 0 && !b.stateSweepBacklog.Load() && now.Sub(time.Unix(0, last)) < stateSweepEvery {
		return
	}
	b.lastStateSweep.Store(now.UnixNano())
	b.stateMu.Lock()
	n, err := b.countStatesLocked(ctx, s)
	b.stateMu.Unlock()
	if err != nil || n == 0 {
		if err != nil {
			b.Logger().Warn("could not count authorization states to delete expired ones", "error", err)
		}
		b.stateSweepBacklog.Store(false)
		return
	}

	keys, err := s.List(ctx, stateStoragePrefix)
	if err != nil {
		b.Logger().Warn("could not list authorization states to delete expired ones", "error", err)
		return
	}
	slices.Sort(keys)
	start, _ := slices.BinarySearch(keys, b.stateSweepAfter)
	if start < len(keys) && keys[start] == b.stateSweepAfter {
		start++
	}
	end := min(start+maxRecordSweep, len(keys))
	deleted := 0
	for _, k := range keys[start:end] {
		if ctx.Err() != nil {
			break
		}
		ok, err := b.deleteStateIfExpired(ctx, s, k, now)
		if err != nil {
			b.Logger().Warn("could not delete an expired authorization state", "error", err)
			continue
		}
		if ok {
			deleted++
		}
	}
	// Only the periodic run sweeps, one at a time: the cursor needs no lock.
	more := end < len(keys)
	b.stateSweepAfter = ""
	if more {
		b.stateSweepAfter = keys[end-1]
	}
	b.stateSweepBacklog.Store(more)
	if deleted > 0 {
		b.Logger().Debug("deleted expired authorization states", "count", deleted)
	}
}

func (b *backend) deleteStateIfExpired(ctx context.Context, s logical.Storage, h string, now time.Time) (bool, error) {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	entry, err := s.Get(ctx, stateStoragePrefix+h)
	if err != nil || entry == nil {
		return false, err // nil entry: consumed meanwhile
	}
	// An undecodable record can never be used: it goes as well.
	st := &pendingState{}
	if err := entry.DecodeJSON(st); err == nil && now.Before(st.ExpiresAt) {
		return false, nil
	}
	if err := s.Delete(ctx, stateStoragePrefix+h); err != nil {
		return false, err
	}
	b.stateGoneLocked()
	return true, nil
}
