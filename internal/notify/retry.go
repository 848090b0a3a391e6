package notify

import "time"

const (
	// FirstRetry is the back-off after a first failed attempt, before
	// jitter: the retry comes 15 to 30 seconds later.
	FirstRetry = 30 * time.Second
	// MaxRetryInterval caps the back-off before jitter: later retries come
	// 29 to 58 minutes apart, so that with the periodic run's minute of lag
	// two attempts are never more than an hour apart.
	MaxRetryInterval = 58 * time.Minute
	// DefaultMaxAge is how long an undelivered event is kept: it is
	// dropped (and counted) at its first failed attempt after that.
	DefaultMaxAge = 24 * time.Hour
)

// RetryDelay is how long to wait after the failures-th failed attempt in a
// row (failures >= 1): FirstRetry doubled per further failure, capped at
// MaxRetryInterval, then "equal jitter": the upper half of that range,
// placed by jitter in [0, 1). Events that failed together (a receiver went
// down) thus do not all come back at the same second.
func RetryDelay(failures int, jitter float64) time.Duration {
	d := MaxRetryInterval
	if failures < 1 {
		failures = 1
	}
	// 30 s << 7 already passes the cap; stop shifting before overflow.
	if failures <= 7 {
		d = min(FirstRetry<<(failures-1), MaxRetryInterval)
	}
	jitter = min(max(jitter, 0), 1)
	half := d / 2
	return half + time.Duration(float64(half)*jitter)
}
