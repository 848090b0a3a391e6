package graph

import (
	"testing"
	"time"
)

// TestVersionTable: every row parses, versions come in order, each lives
// at least two years, and the default version is known.
func TestVersionTable(t *testing.T) {
	var prev VersionInfo
	for i, row := range versionTable {
		v := LookupVersion(row.version)
		if !v.Known || v.Released.IsZero() {
			t.Fatalf("%s: %+v", row.version, v)
		}
		if !v.Expires.IsZero() && v.Expires.Sub(v.Released) < 2*365*24*time.Hour {
			t.Errorf("%s lives less than two years: %v to %v", row.version, v.Released, v.Expires)
		}
		if i > 0 && (!v.Released.After(prev.Released) || (!v.Expires.IsZero() && !v.Expires.After(prev.Expires))) {
			t.Errorf("%s is out of order after %s", row.version, prev.Version)
		}
		prev = v
	}
	if !LookupVersion(DefaultVersion).Known || LookupVersion(DefaultVersion).Expires.IsZero() {
		t.Errorf("the default version %s has no known end of life", DefaultVersion)
	}
	if v := LookupVersion(" 21.0"); !v.Known || v.Version != "v21.0" || !v.Expires.Equal(time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("21.0 without its v: %+v", v)
	}
	for _, unknown := range []string{"v19.0", "v99.0", "", "latest"} {
		if v := LookupVersion(unknown); v.Known || !v.Expires.IsZero() {
			t.Errorf("%q: %+v, want unknown and no date", unknown, v)
		}
	}
}

// TestVersionTableFollowsMetasCalendar: the table holds each version Meta
// released up to v27.0 with the end date Meta announced (v26.0 and v27.0
// have none yet), so that config and status warn on time.
func TestVersionTableFollowsMetasCalendar(t *testing.T) {
	want := []struct{ version, released, expires string }{
		{"v20.0", "2024-05-21", "2026-09-24"},
		{"v21.0", "2024-10-02", "2027-01-21"},
		{"v22.0", "2025-01-21", "2027-05-20"},
		{"v23.0", "2025-05-29", "2027-10-08"},
		{"v24.0", "2025-10-08", "2028-02-18"},
		{"v25.0", "2026-02-18", "2028-07-29"},
		{"v26.0", "2026-07-29", ""},
		{"v27.0", "2026-11-04", ""},
	}
	for _, w := range want {
		v := LookupVersion(w.version)
		if !v.Known || !v.Released.Equal(day(w.released)) || !v.Expires.Equal(day(w.expires)) {
			t.Errorf("%s: %+v, want released %s, expires %q", w.version, v, w.released, w.expires)
		}
	}
	if got := NewestKnownVersion(); got != "v27.0" {
		t.Errorf("newest known version %s, want v27.0", got)
	}
}
