//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts Vault in a process group of its own; the plugin
// processes it starts inherit it, so signalling the group stops them all and
// nothing else.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminateGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
