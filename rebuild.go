package instagram

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// rebuildLoaders is how many storage reads a rebuild keeps in flight. In an
// external plugin each read is a gRPC round trip to Vault, so the reads
// overlap rather than queue.
const rebuildLoaders = 16

// errRebuildRunning says another rebuild is already reading storage.
var errRebuildRunning = errors.New("a schedule rebuild is already running")

// startScheduleRebuild builds the schedule in the background. Vault holds a
// mount's requests until InitializeFunc returns, and reading every account
// takes time in proportion to their number (tens of seconds for 100,000), so
// InitializeFunc only starts it: reads and writes are served meanwhile (the
// account cache fills on demand, and writes are journaled into the schedule
// being built), and periodic runs wait for it.
func (b *backend) startScheduleRebuild(s logical.Storage) {
	b.bgWG.Add(1)
	go func() {
		defer b.bgWG.Done()
		if err := b.rebuildSchedule(b.bgCtx, s); err != nil && !errors.Is(err, errRebuildRunning) {
			// Not fatal: the next periodic run retries.
			b.Logger().Warn("could not build the refresh schedule at start-up; the next periodic run retries", "error", err)
		}
	}()
}

// rebuildSchedule builds the schedule from the schedule index (schedule_index.go)
// and swaps it in, keeping changes written while it read (see
// schedule.beginRebuild). A mount without an index (created by a version
// before it) builds the schedule from its accounts, once, and then the
// index from the schedule.
func (b *backend) rebuildSchedule(ctx context.Context, s logical.Storage) error {
	if !b.rebuildMu.TryLock() {
		return errRebuildRunning
	}
	defer b.rebuildMu.Unlock()

	// Journal first, then read the config: a config write that changes
	// the window after the read is then journaled (windowChanged) and
	// replace keeps it. Read the other way round, a write between the two
	// would be undone by replace until the next start.
	b.sched.BeginRebuild()
	// The mount's key decides where each name's record goes; a replica
	// before the primary wrote it builds with none (it writes no shard).
	if _, err := b.loadMountKey(ctx, s); err != nil && !errors.Is(err, errNoMountKey) {
		b.sched.AbortRebuild()
		return err
	}
	window := defaultRefreshWindow
	cfg, err := b.readConfig(ctx, s)
	if err != nil {
		b.sched.AbortRebuild()
		return err
	}
	if cfg != nil {
		window = cfg.RefreshWindow
	}
	index, err := b.loadIndex(ctx, s)
	if errors.Is(err, errNoIndex) {
		b.Logger().Info("building the schedule index from the accounts", "reason", err.Error())
		records, err := loadTimings(ctx, s)
		if err != nil {
			b.sched.AbortRebuild()
			return err
		}
		b.sched.Replace(window, records, b.clock.Now())
		if !b.WriteSafeReplicationState() {
			return nil // a replica reads what the primary's active node writes
		}
		if err := b.buildIndex(ctx, s); err != nil {
			return err
		}
		b.Logger().Info("schedule index built", "accounts", len(records))
		return nil
	}
	if err != nil {
		b.sched.AbortRebuild()
		return err
	}
	b.sched.ReplaceFrom(window, index.n, index.all(), b.clock.Now())
	if index.format == indexMetaUnkeyed && b.WriteSafeReplicationState() {
		// The first layout: its records are all here; they are written
		// again under the mount's key (buildIndex).
		b.Logger().Info("writing the schedule index again with shards chosen by the mount's key", "accounts", index.n)
		if err := b.buildIndex(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// loadTimings reads every stored account and returns their records.
func loadTimings(ctx context.Context, s logical.Storage) ([]schedule.Record, error) {
	var records []schedule.Record
	err := forEveryAccount(ctx, s, func(n int) { records = make([]schedule.Record, 0, n) }, func(name string, a *account) {
		records = append(records, schedule.Record{Name: name, Account: a.scheduled()})
	})
	return records, err
}

// forEveryAccount reads every stored account straight from storage (not
// through the read cache, which would fill with all of them), with
// rebuildLoaders reads in flight. It calls sized with the number of names
// listed, then visit for each account with its storage name, one call at a
// time. Every name is read whatever ctx says: a cancelled context fails the
// reads themselves, and the first error is returned.
func forEveryAccount(ctx context.Context, s logical.Storage, sized func(n int), visit func(name string, a *account)) error {
	names, err := s.List(ctx, accountStoragePrefix)
	if err != nil {
		return fmt.Errorf("listing accounts: %w", err)
	}
	sized(len(names))
	var (
		mu       sync.Mutex
		firstErr error
	)
	forEachBounded(context.WithoutCancel(ctx), rebuildLoaders, names, func(name string) {
		a, err := loadAccount(ctx, s, name)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && firstErr == nil:
			firstErr = err
		case err == nil && a != nil:
			visit(name, a)
		}
	})
	return firstErr
}
