package vaultproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vault.log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTail(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	path := writeFile(t, b.String())
	for _, tc := range []struct {
		n    int
		want string
	}{
		{3, "line 98\nline 99\nline 100"},
		{1, "line 100"},
		{0, ""},
		{200, strings.TrimSuffix(b.String(), "\n")},
	} {
		if got := Tail(path, tc.n); got != tc.want {
			t.Errorf("Tail(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}

	// A last line without a newline counts; an empty file has no lines.
	if got := Tail(writeFile(t, "a\nb"), 5); got != "a\nb" {
		t.Errorf("Tail of an unterminated file = %q", got)
	}
	if got := Tail(writeFile(t, ""), 5); got != "" {
		t.Errorf("Tail of an empty file = %q", got)
	}
}

// Vault logs lines longer than bufio.Scanner's default 64 KiB limit; Tail
// must still return the end of the file, not stop at the long line.
func TestTailLongLine(t *testing.T) {
	long := strings.Repeat("x", 200*1024)
	path := writeFile(t, "first\n"+long+"\nlast\n")
	if got := Tail(path, 2); got != long+"\nlast" {
		t.Errorf("Tail across a 200 KiB line: got %d bytes ending %q", len(got), got[max(0, len(got)-10):])
	}
}

func TestTailMissingFile(t *testing.T) {
	got := Tail(filepath.Join(t.TempDir(), "nope.log"), 5)
	if !strings.HasPrefix(got, "(cannot read ") {
		t.Errorf("Tail of a missing file = %q, want a note saying it cannot be read", got)
	}
}

func TestPortTaken(t *testing.T) {
	clash := "==> Vault server configuration:\nError initializing listener of type tcp: listen tcp4 127.0.0.1:8200: bind: address already in use\n"
	if !PortTaken(writeFile(t, clash)) {
		t.Error("PortTaken missed a bind failure at the end of the log")
	}
	// Only the end of the log counts: an old clash followed by a long
	// story is not why this start failed.
	old := clash + strings.Repeat("later line\n", 100)
	if PortTaken(writeFile(t, old)) {
		t.Error("PortTaken took a clash 100 lines up for the reason")
	}
	if PortTaken(filepath.Join(t.TempDir(), "nope.log")) {
		t.Error("PortTaken of a missing log = true")
	}
}
