package graph

import (
	"strings"
	"time"
)

// VersionInfo is what the engine knows about a Graph API version's life.
type VersionInfo struct {
	Version string
	// Known is false for a version missing from the table (newer than this
	// build of the engine, or older than its oldest row): its end of life is
	// unknown, and the engine says so rather than guess.
	Known bool
	// Released and Expires are zero when Meta has not announced them; a
	// known version with a zero Expires has no end date yet.
	Released, Expires time.Time
}

// versionTable is Meta's Graph API versions changelog (update it when Meta
// announces a version or an end date): each version lives at least two years, and
// its end date is announced when the next one is released. A call to an
// ended version is answered by the oldest live one, so nothing fails on the
// day: the engine warns ahead of it instead.
var versionTable = []struct{ version, released, expires string }{
	{"v20.0", "2024-05-21", "2026-09-24"},
	{"v21.0", "2024-10-02", "2027-01-21"},
	{"v22.0", "2025-01-21", "2027-05-20"},
	{"v23.0", "2025-05-29", "2027-10-08"},
	{"v24.0", "2025-10-08", "2028-02-18"},
	{"v25.0", "2026-02-18", "2028-07-29"},
	{"v26.0", "2026-07-29", ""},
	{"v27.0", "2026-11-04", ""},
}

// LookupVersion returns what the table says about version ("v25.0"; a
// missing "v" or surrounding spaces are tolerated, as config accepts them).
func LookupVersion(version string) VersionInfo {
	v := strings.TrimSpace(version)
	if v != "" && v[0] >= '0' && v[0] <= '9' {
		v = "v" + v
	}
	info := VersionInfo{Version: v}
	for _, row := range versionTable {
		if row.version == v {
			info.Known = true
			info.Released = day(row.released)
			info.Expires = day(row.expires)
		}
	}
	return info
}

// day parses a table date as midnight UTC; "" is the zero time.
func day(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("graph: bad date in versionTable: " + s)
	}
	return t
}

// OldestKnownVersion and NewestKnownVersion bound the table, for messages
// about a version missing from it.
func OldestKnownVersion() string { return versionTable[0].version }
func NewestKnownVersion() string { return versionTable[len(versionTable)-1].version }
