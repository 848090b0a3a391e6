package instagram

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// What Meta's callbacks (deauthorize, data-deletion) store, and how it
// goes away. A captured signed_request verifies for its whole max age, so
// the engine remembers each one it accepted and acts on it once; and what
// it stores for each (a remembered request, a deletion's status record)
// expires, so that no caller can make it grow without end.

const (
	// signedRequestStoragePrefix holds the signed requests the engine
	// accepted, in local storage: which requests a cluster has acted on is
	// that cluster's own state (both callbacks run on the primary's active
	// node, where performance standbys and secondaries forward them).
	// Keys are <issued_at, 12 digits>-<Hash>, so they sort by age and the
	// sweep needs no read to know which have aged out.
	signedRequestStoragePrefix = "signed-requests/"

	// defaultDeletionRecordTTL is how long a deletion's status stays
	// readable on data-deletion/<code>: long enough for a user (or Meta's
	// review) to check it, not forever.
	defaultDeletionRecordTTL = 90 * 24 * time.Hour
	// minDeletionRecordTTL keeps a status record at least as long as the
	// request it answered can be replayed (signed_request_max_age is at
	// most 24 hours): a replay answers the same code, which should work.
	minDeletionRecordTTL = 24 * time.Hour
	maxDeletionRecordTTL = 3650 * 24 * time.Hour

	// recordSweepEvery spaces out the sweeps of expired records; a sweep
	// that stopped at its bound goes on at the next periodic run.
	recordSweepEvery = 10 * time.Minute
	// maxRecordSweep bounds the records of each kind one periodic run
	// examines (and deletes): a backlog is worked off run after run.
	maxRecordSweep = 256
)

// seenRequest is what the engine remembers of an accepted signed_request:
// which callbacks acted on it and what they answered. Meta signs the same
// payload (algorithm, issued_at, user_id) for both callbacks, and sends a
// byte-identical request to each when a user removes the app and asks for
// deletion in the same second, so each path acts once on a request, not
// only the first path to see it. No user id and nothing of the request
// itself is kept.
type seenRequest struct {
	IssuedAt       time.Time `json:"issued_at"`
	DeauthorizedAt time.Time `json:"deauthorized_at"`
	// DeletionCode is the confirmation code data-deletion answered.
	DeletionCode string    `json:"deletion_code,omitempty"`
	DeletedAt    time.Time `json:"deleted_at"`
}

func seenRequestKey(sr *graph.SignedRequest) string {
	return fmt.Sprintf("%s%012d-%s", signedRequestStoragePrefix, sr.IssuedAt.Unix(), sr.Hash)
}

// lockSignedRequests serialises the handling of accepted signed requests:
// two copies of one request arriving together must not both act. Meta's
// callbacks are rare, so one lock for all of them costs nothing.
func (b *backend) lockSignedRequests() func() {
	b.signedRequestMu.Lock()
	return b.signedRequestMu.Unlock
}

// loadSeenRequest returns what the engine remembers of sr; a zero record
// (IssuedAt set) when it never saw it.
func (b *backend) loadSeenRequest(ctx context.Context, s logical.Storage, sr *graph.SignedRequest) (*seenRequest, error) {
	seen := &seenRequest{IssuedAt: sr.IssuedAt}
	entry, err := s.Get(ctx, seenRequestKey(sr))
	if err != nil {
		return nil, fmt.Errorf("reading accepted signed requests: %w", err)
	}
	if entry != nil {
		if err := entry.DecodeJSON(seen); err != nil {
			return nil, fmt.Errorf("decoding an accepted signed request: %w", err)
		}
	}
	return seen, nil
}

// saveSeenRequest remembers what was done with sr. It is written after the
// callback acted: a crash in between leaves a retry from Meta to act again,
// which finds nothing more to do (or, for a deletion, deletes nothing and
// answers a new code), rather than a request remembered but never acted on.
func (b *backend) saveSeenRequest(ctx context.Context, s logical.Storage, sr *graph.SignedRequest, seen *seenRequest) error {
	entry, err := logical.StorageEntryJSON(seenRequestKey(sr), seen)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, entry); err != nil {
		return fmt.Errorf("writing an accepted signed request: %w", err)
	}
	return nil
}

// authorizedAfter reports whether the account was registered or
// re-authorized after a signed request Meta issued at issuedAt: such an
// account carries its owner's consent given after the request, which the
// request must not undo. issued_at has one-second resolution, so the
// comparison is by the second, and a registration in the very second of
// the request counts as earlier: the request acts. A genuine removal or
// deletion request must never be ignored, and an owner cannot remove the
// app and complete a new authorization within one second.
func (a *account) authorizedAfter(issuedAt time.Time) bool {
	return a.RegisteredAt.Truncate(time.Second).After(issuedAt)
}

// expired reports whether a deletion status record has outlived ttl.
func (r *deletionRecord) expired(now time.Time, ttl time.Duration) bool {
	at := r.CompletedAt
	if at.IsZero() {
		at = r.RequestedAt
	}
	return !now.Before(at.Add(ttl))
}

// sweepCallbackRecords deletes remembered signed requests that aged out of
// signed_request_max_age (they would be refused as too old anyway) and
// deletion status records older than deletion_record_ttl. It runs every
// recordSweepEvery, or at the next run while the last one stopped at
// maxRecordSweep, and examines at most maxRecordSweep records of each kind:
// the periodic run stays bounded however many there are. Failures are
// logged and retried at the next sweep.
func (b *backend) sweepCallbackRecords(ctx context.Context, s logical.Storage, cfg *config, now time.Time) {
	if last := b.lastRecordSweep.Load(); last != 0 && !b.recordSweepBacklog.Load() && now.Sub(time.Unix(0, last)) < recordSweepEvery {
		return
	}
	b.lastRecordSweep.Store(now.UnixNano())
	moreRequests := b.sweepSeenRequests(ctx, s, now.Add(-cfg.SignedRequestMaxAge))
	moreDeletions := b.sweepDeletionRecords(ctx, s, now, cfg.DeletionRecordTTL)
	b.recordSweepBacklog.Store(moreRequests || moreDeletions)
}

// sweepSeenRequests deletes the remembered requests issued before cutoff,
// oldest first, and reports whether it stopped at its bound. It raises the
// sweep horizon past the last one it is about to delete first
// (signed_request_horizon.go).
func (b *backend) sweepSeenRequests(ctx context.Context, s logical.Storage, cutoff time.Time) bool {
	keys, err := s.List(ctx, signedRequestStoragePrefix)
	if err != nil {
		b.Logger().Warn("could not list accepted signed requests to forget old ones", "error", err)
		return false
	}
	slices.Sort(keys)
	var doomed []string
	var horizon time.Time
	more := false
	for _, k := range keys {
		if len(doomed) == maxRecordSweep {
			more = true
			break
		}
		issued, _, _ := strings.Cut(k, "-")
		sec, err := strconv.ParseInt(issued, 10, 64)
		// Sorted by issue time: the first one still young ends the sweep.
		// A key that does not parse is no record of this engine's.
		if err == nil && !time.Unix(sec, 0).Before(cutoff) {
			break
		}
		if err == nil {
			horizon = time.Unix(sec+1, 0) // issued_at is whole seconds
		}
		doomed = append(doomed, k)
	}
	if !horizon.IsZero() {
		if err := raiseHorizon(ctx, s, horizon); err != nil {
			b.Logger().Warn("could not record which signed requests are forgotten; none is forgotten until it is", "error", err)
			return false
		}
	}
	deleted := 0
	for _, k := range doomed {
		if ctx.Err() != nil {
			return true
		}
		if err := s.Delete(ctx, signedRequestStoragePrefix+k); err != nil {
			b.Logger().Warn("could not forget an accepted signed request", "error", err)
			return false
		}
		deleted++
	}
	if deleted > 0 {
		b.Logger().Debug("forgot accepted signed requests past signed_request_max_age", "count", deleted)
	}
	return more
}

// sweepDeletionRecords deletes up to maxRecordSweep deletion records older
// than ttl, examining at most maxRecordSweep from where the last sweep
// stopped (b.deletionSweepAfter), and reports whether records remain to be
// examined. Records are keyed by random codes, so each must be read to
// know its age.
func (b *backend) sweepDeletionRecords(ctx context.Context, s logical.Storage, now time.Time, ttl time.Duration) bool {
	keys, err := s.List(ctx, deletionStoragePrefix)
	if err != nil {
		b.Logger().Warn("could not list data deletion records to delete expired ones", "error", err)
		return false
	}
	slices.Sort(keys)
	b.sweepMu.Lock()
	after := b.deletionSweepAfter
	b.sweepMu.Unlock()
	start, _ := slices.BinarySearch(keys, after)
	if start < len(keys) && keys[start] == after {
		start++
	}
	end := min(start+maxRecordSweep, len(keys))
	deleted := 0
	for _, code := range keys[start:end] {
		if ctx.Err() != nil {
			break
		}
		expired, err := deletionRecordExpired(ctx, s, code, now, ttl)
		if err != nil {
			b.Logger().Warn("could not read a data deletion record", "error", err)
			continue
		}
		if !expired {
			continue
		}
		if err := s.Delete(ctx, deletionStoragePrefix+code); err != nil {
			b.Logger().Warn("could not delete an expired data deletion record", "error", err)
			continue
		}
		deleted++
	}
	more := end < len(keys)
	next := ""
	if more {
		next = keys[end-1]
	}
	b.sweepMu.Lock()
	b.deletionSweepAfter = next
	b.sweepMu.Unlock()
	if deleted > 0 {
		b.Logger().Info("deleted data deletion records past deletion_record_ttl", "count", deleted)
	}
	return more
}

// deletionRecordExpired reports whether the deletion record under code
// has outlived ttl. One that is gone (deleted meanwhile) has not; one that
// cannot be decoded can never be shown, and has.
func deletionRecordExpired(ctx context.Context, s logical.Storage, code string, now time.Time, ttl time.Duration) (bool, error) {
	entry, err := s.Get(ctx, deletionStoragePrefix+code)
	if err != nil || entry == nil {
		return false, err
	}
	var rec deletionRecord
	if err := entry.DecodeJSON(&rec); err != nil {
		return true, nil
	}
	return rec.expired(now, ttl), nil
}
