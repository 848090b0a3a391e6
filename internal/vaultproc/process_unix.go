//go:build unix

package vaultproc

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes the command the leader of a new process group,
// which the processes it spawns inherit; signalling -pid reaches them all.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminateGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
