//go:build !crashpoints

package instagram

// crashPointFromEnv: release builds have no crash points.
func crashPointFromEnv() crashPointFunc { return nil }
