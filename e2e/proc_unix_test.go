//go:build e2e && unix

package e2e

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts Vault in a process group of its own. The plugin
// processes Vault spawns inherit it, so signalling the group reaches them
// too, and nothing else.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminateGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
