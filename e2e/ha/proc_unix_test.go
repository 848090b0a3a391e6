//go:build ha && unix

package ha

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts a Vault node in a process group of its own. The
// plugin processes it spawns inherit it, so signalling the group reaches
// them too, and nothing else.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminateGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }

// killGroup is how a node is lost: SIGKILL to Vault and its plugins at
// once, no shutdown, no step-down.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
