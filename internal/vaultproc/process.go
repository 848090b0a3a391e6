package vaultproc

import (
	"os"
	"os/exec"
	"time"
)

// Process is a command started by Start.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set before exited closes
}

// Start starts cmd in a process group of its own with its stdout and stderr
// going to logFile, which it closes when the process exits (or at once if
// the start fails). The plugin processes Vault spawns inherit the group, so
// Stop and Kill reach them too, and nothing else.
//
// cmd.Env is left to the caller, and should be Environ() (plus whatever the
// command needs): a nil Env would hand the developer's VAULT_* over.
func Start(cmd *exec.Cmd, logFile *os.File) (*Process, error) {
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process's id, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited and its log is closed.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process exited (cmd.Wait's error); it is set once Exited
// is closed.
func (p *Process) Err() error { return p.err }

// Stop asks the process to shut down (SIGTERM to its group: Vault stops its
// plugins), waits up to grace for it to exit, then kills whatever is left of
// the group, so that no plugin process outlives it. It returns once the
// process has exited, and reports whether it ignored SIGTERM for the whole
// grace period, for callers that log it.
func (p *Process) Stop(grace time.Duration) (ignoredTerm bool) {
	pid := p.Pid()
	terminateGroup(pid)
	select {
	case <-p.exited:
	case <-time.After(grace):
		ignoredTerm = true
	}
	killGroup(pid)
	<-p.exited
	return ignoredTerm
}

// Kill loses the process abruptly: SIGKILL to it and its plugins at once,
// no shutdown, no step-down. It returns once the process has exited.
func (p *Process) Kill() {
	killGroup(p.Pid())
	<-p.exited
}
