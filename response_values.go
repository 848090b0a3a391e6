package instagram

import "time"

// How values are spelled in the engine's answers, the same on every path.

// formatTime spells a time as RFC 3339 in UTC; a zero time (not known, or
// never happened) as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// nonNil answers an empty list as [] rather than null, so clients can
// iterate what they read without a check.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
