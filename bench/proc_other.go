//go:build !unix

package main

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func terminateGroup(int) {}

func killGroup(int) {}
