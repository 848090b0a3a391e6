package vaultproc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"
)

// Secrets is a test's registry of every secret value it handed to or got
// from the engine (app secrets, codes, tokens, states). After Vault stops,
// its log must contain none of them: ScanLog checks. The zero value is
// ready to use, and it is safe for concurrent use.
type Secrets struct {
	mu     sync.Mutex
	labels map[string]string // value -> what it is
}

// Add registers value, described by label in leak reports, and returns it.
// Values shorter than 8 bytes are not registered: they would match log
// lines by accident, and none of the engine's secrets are that short.
func (s *Secrets) Add(label, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(value) >= 8 {
		if s.labels == nil {
			s.labels = map[string]string{}
		}
		s.labels[value] = label
	}
	return value
}

// Forget unregisters value: for a test that plants a value in the log on
// purpose, to prove the scan finds it.
func (s *Secrets) Forget(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.labels, value)
}

// Snapshot returns a copy of the registry, value -> label.
func (s *Secrets) Snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.labels)
}

// ScanLog reads the log at path once its process has stopped (so the log
// is complete) and reports every line holding a registered value, sorted,
// as "<what> leaks the <label> at line N: <line>", the value masked in the
// line so the report does not repeat the leak.
//
// It also counts the log's lines from the plugin process, which go-plugin
// relays with the plugin's name and a timestamp= field. The scan proves
// nothing unless the plugin's own lines reach the log, so a caller scanning
// Vault's log must fail when there are none; how (per log, or over a
// cluster's logs) is the caller's to say.
func (s *Secrets) ScanLog(path, what string) (leaks []string, pluginLines int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	lines := strings.Split(string(data), "\n")
	for _, l := range lines {
		if strings.Contains(l, PluginName) && strings.Contains(l, "timestamp=") {
			pluginLines++
		}
	}
	for value, label := range s.Snapshot() {
		for i, line := range lines {
			if strings.Contains(line, value) {
				leaks = append(leaks, fmt.Sprintf("%s leaks the %s at line %d: %s", what, label, i+1, strings.ReplaceAll(line, value, "<"+label+">")))
			}
		}
	}
	sort.Strings(leaks)
	return leaks, pluginLines, nil
}

// RandHex returns n random bytes in hex: secrets and names that no other
// test, run or log line can share by chance.
func RandHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
