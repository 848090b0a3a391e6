//go:build clockskew

package instagram

import (
	"os"
	"time"
)

// clockSkewEnv is a Go duration ("1h31m") the plugin adds to the wall
// clock. Test builds only (-tags clockskew): e2e's uninstall test uses it
// to bring an account's hourly health check due now on a real Vault, whose
// periodic function then runs the check as in production. Release builds
// read the wall clock (clockskew_off.go).
const clockSkewEnv = "INSTAGRAM_CLOCK_SKEW"

// clockFromEnv returns the wall clock moved by clockSkewEnv, or nil (the
// wall clock) when it is unset or not a duration.
func clockFromEnv() clock {
	skew, err := time.ParseDuration(os.Getenv(clockSkewEnv))
	if err != nil || skew == 0 {
		return nil
	}
	return skewedClock{skew: skew}
}

type skewedClock struct{ skew time.Duration }

func (c skewedClock) Now() time.Time { return time.Now().UTC().Add(c.skew) }
