package instagram

import (
	"maps"
	"sync"
	"time"
)

// engineStats are the engine's own counters, served on status. External
// plugins cannot emit Vault telemetry, so this is what monitoring scrapes.
type engineStats struct {
	mu        sync.Mutex
	startedAt time.Time

	// lastPeriodicAt is when the last periodic run began, whether or not
	// it had anything to do (lastTickAt is a run that got to the work).
	lastPeriodicAt    time.Time
	lastTickAt        time.Time
	lastTickDuration  time.Duration
	lastTickRefreshed int
	lastTickFailed    int
	ticks             int64

	refreshesSucceeded int64
	refreshesFailed    int64
	// refreshFailures counts failed refreshes by class (failureClass).
	refreshFailures map[string]int64

	// Health checks of Facebook Login accounts (debug_token), which are
	// checked instead of refreshed.
	healthChecksSucceeded int64
	healthChecksFailed    int64
}

func newEngineStats() *engineStats { return &engineStats{refreshFailures: map[string]int64{}} }

func (s *engineStats) recordTick(at time.Time, took time.Duration, refreshed, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ticks++
	s.lastTickAt = at
	s.lastTickDuration = took
	s.lastTickRefreshed = refreshed
	s.lastTickFailed = failed
}

// recordPeriodic notes that a periodic run began.
func (s *engineStats) recordPeriodic(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastPeriodicAt = at
}

func (s *engineStats) recordRefresh(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.refreshesSucceeded++
	} else {
		s.refreshesFailed++
	}
}

// recordRefreshFailed counts a failed refresh and its class.
func (s *engineStats) recordRefreshFailed(class string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshesFailed++
	s.refreshFailures[class]++
}

func (s *engineStats) recordHealthCheck(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.healthChecksSucceeded++
	} else {
		s.healthChecksFailed++
	}
}

func (s *engineStats) snapshot() engineStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return engineStats{
		startedAt:          s.startedAt,
		lastPeriodicAt:     s.lastPeriodicAt,
		lastTickAt:         s.lastTickAt,
		lastTickDuration:   s.lastTickDuration,
		lastTickRefreshed:  s.lastTickRefreshed,
		lastTickFailed:     s.lastTickFailed,
		ticks:              s.ticks,
		refreshesSucceeded: s.refreshesSucceeded,
		refreshesFailed:    s.refreshesFailed,

		healthChecksSucceeded: s.healthChecksSucceeded,
		healthChecksFailed:    s.healthChecksFailed,
		refreshFailures:       maps.Clone(s.refreshFailures),
	}
}
