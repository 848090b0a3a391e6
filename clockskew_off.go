//go:build !clockskew

package instagram

// clockFromEnv: release builds read the wall clock (systemClock); only a
// test build (-tags clockskew, clockskew_on.go) can be told otherwise.
func clockFromEnv() clock { return nil }
