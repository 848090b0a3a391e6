package instagram

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// The sweep horizon. The engine remembers each signed request it accepted
// until the request is older than signed_request_max_age, then forgets it
// (signed_request_records.go). Raising the max age afterwards would let those
// forgotten requests verify again, with nothing to say they were acted on:
// a replay would act, and store, anew. So the sweep first records how far
// it forgets (the horizon: every request issued before it may have been
// forgotten) and the callbacks refuse any request issued before it.
// Local storage, like the requests it stands for.

const signedRequestHorizonPath = "signed-request-horizon"

type signedRequestHorizon struct {
	// Before: requests issued before it are refused.
	Before time.Time `json:"before"`
}

// loadHorizon returns the sweep horizon (zero: nothing forgotten yet).
func loadHorizon(ctx context.Context, s logical.Storage) (time.Time, error) {
	entry, err := s.Get(ctx, signedRequestHorizonPath)
	if err != nil || entry == nil {
		if err != nil {
			err = fmt.Errorf("reading the signed request horizon: %w", err)
		}
		return time.Time{}, err
	}
	var h signedRequestHorizon
	if err := entry.DecodeJSON(&h); err != nil {
		return time.Time{}, fmt.Errorf("decoding the signed request horizon: %w", err)
	}
	return h.Before, nil
}

// raiseHorizon moves the horizon to before, unless it is there or later
// already. The sweep calls it before it forgets anything, so a crash in
// between leaves requests refused that are still remembered, never the
// other way round. Only the sweep writes it, one at a time (ticks do not
// overlap).
func raiseHorizon(ctx context.Context, s logical.Storage, before time.Time) error {
	current, err := loadHorizon(ctx, s)
	if err != nil {
		return err
	}
	if !before.After(current) {
		return nil
	}
	entry, err := logical.StorageEntryJSON(signedRequestHorizonPath, signedRequestHorizon{Before: before.UTC()})
	if err != nil {
		return err
	}
	if err := s.Put(ctx, entry); err != nil {
		return fmt.Errorf("writing the signed request horizon: %w", err)
	}
	return nil
}

// checkHorizon refuses a verified request issued before the horizon.
func checkHorizon(ctx context.Context, s logical.Storage, sr *graph.SignedRequest) error {
	before, err := loadHorizon(ctx, s)
	if err != nil {
		return err
	}
	if sr.IssuedAt.Before(before) {
		return &graph.SignedRequestError{Reason: graph.SignedRequestForgotten}
	}
	return nil
}
