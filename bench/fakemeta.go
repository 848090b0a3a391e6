package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// fakeMeta is the fake Meta (graph/graphtest) running as a process of its
// own, the fakemeta command, driven through its admin API. It must not run
// inside the benchmark: the direct Graph call and the plugin's call have to
// cross the same process boundary to the same fake, as they do to Meta. In
// process, a GET of the fake's me took p50 32 µs against 172 µs from
// another process on the 2-vCPU machine the figures come from, a head start
// no application has.
type fakeMeta struct {
	proc    *vaultproc.Process
	base    string // http://127.0.0.1:PORT
	appID   string
	logPath string
	admin   *http.Client
}

// fakeMetaStartup bounds how long the fake may take to print its URLs.
const fakeMetaStartup = 30 * time.Second

var fakeListening = regexp.MustCompile(`(?m)^fakemeta listening on (http://\S+)`)

// startFakeMeta runs the fakemeta binary on a free loopback port with the
// app id and secret (the secret on stdin, out of ps), its output in
// logPath, and waits until it has printed its URLs. The caller closes it.
func startFakeMeta(bin, appID, appSecret, logPath string) (*fakeMeta, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-app-id", appID, "-app-secret", "-")
	cmd.Env = vaultproc.Environ()
	cmd.Stdin = strings.NewReader(appSecret + "\n")
	proc, err := vaultproc.Start(cmd, logFile)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	f := &fakeMeta{proc: proc, appID: appID, logPath: logPath, admin: &http.Client{Timeout: 30 * time.Second}}
	if f.base, err = waitFakeMeta(proc, logPath); err != nil {
		proc.Stop(5 * time.Second)
		return nil, fmt.Errorf("fake Meta did not come up: %w\n--- %s ---\n%s", err, logPath, vaultproc.Tail(logPath, 20))
	}
	return f, nil
}

// waitFakeMeta reads the fake's log until it holds the base URL and the
// field=URL lines, which must be those of graphtest.EndpointsFor(base).
func waitFakeMeta(proc *vaultproc.Process, logPath string) (string, error) {
	deadline := time.Now().Add(fakeMetaStartup)
	for {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return "", err
		}
		// The URL lines are written at once, after the listening line.
		if m := fakeListening.FindSubmatch(b); m != nil && bytes.Contains(b, []byte("\nfacebook_graph_base_url=")) {
			base := string(m[1])
			return base, checkPrintedURLs(string(b), graphtest.EndpointsFor(base))
		}
		select {
		case <-proc.Exited():
			return "", fmt.Errorf("exited: %v", proc.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no URLs printed within %s", fakeMetaStartup)
		}
	}
}

// checkPrintedURLs makes sure the fake serves where EndpointsFor says.
func checkPrintedURLs(out string, ep graph.Endpoints) error {
	for field, want := range map[string]string{
		"auth_base_url": ep.AuthBaseURL, "api_base_url": ep.APIBaseURL, "graph_base_url": ep.GraphBaseURL,
		"facebook_auth_base_url": ep.FacebookAuthBaseURL, "facebook_graph_base_url": ep.FacebookGraphBaseURL,
	} {
		if !strings.Contains(out, "\n"+field+"="+want+"\n") {
			return fmt.Errorf("fakemeta did not print %s=%s", field, want)
		}
	}
	return nil
}

// Endpoints are the fake's base URLs, for the plugin's config and the
// direct call.
func (f *fakeMeta) Endpoints() graph.Endpoints { return graphtest.EndpointsFor(f.base) }

// AppID is the app id the fake accepts.
func (f *fakeMeta) AppID() string { return f.appID }

// MintLongLivedToken mints a long-lived Instagram token for username (added
// to the fake if new) with the scopes, issued at issuedAt.
func (f *fakeMeta) MintLongLivedToken(username string, scopes []string, issuedAt time.Time) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := f.post("tokens", map[string]any{
		"username": username, "scopes": scopes, "kind": graphtest.KindLongLived,
		"issued_at": issuedAt.UTC().Format(time.RFC3339),
	}, &out)
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", errors.New("fake Meta: POST /_fake/tokens answered no access_token")
	}
	return out.AccessToken, nil
}

// SetLatency delays every answer of the fake by d from now on.
func (f *fakeMeta) SetLatency(d time.Duration) error {
	return f.post("latency", map[string]string{"latency": d.String()}, nil)
}

// post sends one admin request and decodes its answer into out (when not
// nil). An error carries the admin API's message, never the answer itself
// (a token).
func (f *fakeMeta) post(what string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := f.admin.Post(f.base+"/_fake/"+what, "application/json", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("fake Meta: POST /_fake/%s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("fake Meta: POST /_fake/%s: HTTP %d: %s", what, resp.StatusCode, e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("fake Meta: POST /_fake/%s: %w", what, err)
	}
	return nil
}

// Close stops the fake (SIGTERM, then SIGKILL after a grace period) and
// says how it ended if not cleanly.
func (f *fakeMeta) Close() error {
	f.admin.CloseIdleConnections()
	if f.proc.Stop(10 * time.Second) {
		return fmt.Errorf("fake Meta ignored SIGTERM and was killed (log %s)", f.logPath)
	}
	if err := f.proc.Err(); err != nil {
		return fmt.Errorf("fake Meta exited: %w (log %s)", err, f.logPath)
	}
	return nil
}
