package vaultproc

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// DevServer says how StartDev runs `vault server -dev`.
type DevServer struct {
	VaultBin  string
	PluginDir string // -dev-plugin-dir
	RootToken string // -dev-root-token-id
	// LogLevel is Vault's -log-level, which also filters what the plugins
	// log: the e2e leak check wants trace (everything the plugin could
	// write), the benchmark warn (per-request logging would be measured).
	LogLevel string
	// LogPath names the log file of each attempt, counted from 1. A path
	// used again is truncated.
	LogPath func(attempt int) string
}

// Dev is a dev server started by StartDev, unsealed and active.
type Dev struct {
	*Process
	Addr    string // http://127.0.0.1:PORT
	LogPath string
}

// StartDev starts a dev server on a free loopback port and waits up to 60 s
// until it is unsealed and active. A server that exits before it is
// healthy gets up to two more attempts on other ports: a port taken
// between choosing it and Vault binding it, or a dev server that died
// during its own start (once seen on a loaded CI machine: exit status 1
// right after mounting secret/, nothing in its log). A dev start involves
// no plugin (plugins are registered afterwards), so nothing of the
// engine's is retried away, and a failure every time is still returned,
// with the end of the last attempt's log; each attempt keeps its own. A
// server still unhealthy after 60 s is not retried. The caller stops the
// server (Stop), which also stops the plugins.
func StartDev(s DevServer) (*Dev, error) {
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		d, err := launchDev(s, s.LogPath(attempt))
		if err != nil {
			return nil, err
		}
		err = d.waitHealthy(60 * time.Second)
		if err == nil {
			return d, nil
		}
		d.Stop(15 * time.Second)
		lastErr = fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, d.LogPath, Tail(d.LogPath, 40))
		if !errors.Is(err, errExitedEarly) && !PortTaken(d.LogPath) {
			break
		}
	}
	return nil, fmt.Errorf("vault did not come up: %w", lastErr)
}

// errExitedEarly is waitHealthy's error for a server that exited before it
// was healthy.
var errExitedEarly = errors.New("vault exited before it was healthy")

func launchDev(s DevServer, logPath string) (*Dev, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(s.VaultBin, "server", "-dev",
		"-dev-root-token-id="+s.RootToken,
		"-dev-listen-address="+addr,
		"-dev-plugin-dir="+s.PluginDir,
		// Do not overwrite the developer's ~/.vault-token.
		"-dev-no-store-token",
		"-log-level="+s.LogLevel,
	)
	cmd.Env = Environ()
	p, err := Start(cmd, logFile)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", s.VaultBin, err)
	}
	return &Dev{Process: p, Addr: "http://" + addr, LogPath: logPath}, nil
}

// waitHealthy polls sys/health until it answers 200: initialized, unsealed
// and active. A server that exits meanwhile ends the wait at once.
func (d *Dev) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("%w: %v", errExitedEarly, d.err)
		default:
		}
		resp, err := hc.Get(d.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("vault at %s not healthy after %s", d.Addr, timeout)
}
