//go:build !unix

package vaultproc

import (
	"os"
	"os/exec"
)

// Without process groups the best available is to kill Vault itself; its
// plugins exit when their gRPC connection to Vault goes away.
func setProcessGroup(*exec.Cmd) {}

func terminateGroup(pid int) { killGroup(pid) }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
