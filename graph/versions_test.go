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
