//go:build unix

package vaultproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startShell runs script under sh in its own process group, logging to a
// file, and returns the process and the log's path.
func startShell(t *testing.T, script string) (*Process, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "proc.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = Environ()
	p, err := Start(cmd, logFile)
	if err != nil {
		t.Fatal(err)
	}
	return p, logPath
}

// waitForLine waits until the log has a line, and returns the first one.
func waitForLine(t *testing.T, logPath string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(logPath); strings.Contains(string(data), "\n") {
			return strings.SplitN(string(data), "\n", 2)[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s stayed empty", logPath)
	return ""
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// Stop must reach what the process spawned, as Vault's plugins: the child
// here ignores nothing, the parent waits on it.
func TestStopStopsTheGroup(t *testing.T) {
	p, logPath := startShell(t, `sleep 60 & echo $!; wait`)
	child, err := strconv.Atoi(waitForLine(t, logPath))
	if err != nil {
		t.Fatal(err)
	}
	if ignored := p.Stop(10 * time.Second); ignored {
		t.Error("Stop reports SIGTERM ignored by a shell that does not ignore it")
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	// The child is reaped by init once orphaned; give it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(child) {
		_ = syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("the child (pid %d) outlived Stop", child)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	p, logPath := startShell(t, `trap "" TERM; echo ready; while :; do sleep 1; done`)
	waitForLine(t, logPath)
	start := time.Now()
	if ignored := p.Stop(300 * time.Millisecond); !ignored {
		t.Error("Stop did not report SIGTERM ignored")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %s with a 300ms grace", took)
	}
	if p.Err() == nil {
		t.Error("a killed process reports no exit error")
	}
}

func TestKill(t *testing.T) {
	p, logPath := startShell(t, `trap "" TERM; echo ready; while :; do sleep 1; done`)
	waitForLine(t, logPath)
	p.Kill()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Kill returned before the process exited")
	}
}

func TestStartFailureClosesTheLog(t *testing.T) {
	logFile, err := os.Create(filepath.Join(t.TempDir(), "proc.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(exec.Command(filepath.Join(t.TempDir(), "no-such-binary")), logFile); err == nil {
		t.Fatal("Start of a missing binary: no error")
	}
	if _, err := logFile.WriteString("x"); err == nil {
		t.Error("the log file is still open after a failed start")
	}
}
