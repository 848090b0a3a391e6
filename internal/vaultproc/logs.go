package vaultproc

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Tail returns the last n lines of a file, for failure messages: the reason
// a Vault did not come up or a request failed is usually at the end of its
// log. A file it cannot read yields a note saying so instead, since it is
// only ever part of a message about another failure.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	// Vault logs long lines (a plugin's whole configuration, stack traces).
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// PortTaken reports whether the end of the Vault log at logPath says an
// address was already in use: a port FreePort chose was taken before Vault
// bound it, and the start is worth another try on other ports.
func PortTaken(logPath string) bool {
	return strings.Contains(Tail(logPath, 40), "address already in use")
}
