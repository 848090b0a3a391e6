package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
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
//
// It serves https, with HTTP/2 offered by ALPN, as Meta does: Go's client,
// the plugin's included, then speaks HTTP/2 to it as it does to Meta,
// where plain http would have both the plugin and the direct calls on
// HTTP/1.1, which costs Go's client more per request (a goroutine hand-off
// each way) than the production path does. The fake makes its certificate
// at start and writes it (no key) to certPath; the benchmark's clients
// trust it as a root of their own (roots), the plugin through
// SSL_CERT_FILE (PluginEnv). -meta-http1 runs it on plain http instead.
type fakeMeta struct {
	proc     *vaultproc.Process
	base     string // https://127.0.0.1:PORT (http:// without a certPath)
	appID    string
	logPath  string
	certPath string         // the certificate the fake wrote; "" on plain http
	roots    *x509.CertPool // that certificate; nil on plain http
	admin    *http.Client
}

// fakeMetaStartup bounds how long the fake may take to print its URLs.
const fakeMetaStartup = 30 * time.Second

var fakeListening = regexp.MustCompile(`(?m)^fakemeta listening on (https?://\S+)`)

// startFakeMeta runs the fakemeta binary on a free loopback port with the
// app id and secret (the secret on stdin, out of ps), its output in
// logPath, and waits until it has printed its URLs. With a certPath it
// serves https and writes its certificate there (-tls-cert-out), without
// one plain http. The caller closes it.
func startFakeMeta(bin, appID, appSecret, logPath, certPath string) (*fakeMeta, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", "127.0.0.1:0", "-app-id", appID, "-app-secret", "-"}
	if certPath != "" {
		// An earlier run's certificate must not pass for this one's.
		if err := os.Remove(certPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		args = append(args, "-tls-cert-out", certPath)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = vaultproc.Environ()
	cmd.Stdin = strings.NewReader(appSecret + "\n")
	proc, err := vaultproc.Start(cmd, logFile)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	f := &fakeMeta{proc: proc, appID: appID, logPath: logPath, certPath: certPath}
	if err := f.ready(); err != nil {
		proc.Stop(5 * time.Second)
		return nil, fmt.Errorf("fake Meta did not come up: %w\n--- %s ---\n%s", err, logPath, vaultproc.Tail(logPath, 20))
	}
	return f, nil
}

// ready waits for the fake's URLs and, on https, loads the certificate it
// wrote before printing them; then the admin client can be built.
func (f *fakeMeta) ready() error {
	var err error
	if f.base, err = waitFakeMeta(f.proc, f.logPath); err != nil {
		return err
	}
	wantScheme := "http://"
	if f.certPath != "" {
		wantScheme = "https://"
		pemBytes, err := os.ReadFile(f.certPath)
		if err != nil {
			return err
		}
		f.roots = x509.NewCertPool()
		if !f.roots.AppendCertsFromPEM(pemBytes) {
			return fmt.Errorf("%s holds no certificate", f.certPath)
		}
	}
	if !strings.HasPrefix(f.base, wantScheme) {
		return fmt.Errorf("fakemeta listens on %s, want %s", f.base, wantScheme)
	}
	f.admin = &http.Client{Transport: metaTransport(f.roots), Timeout: 30 * time.Second}
	return nil
}

// metaTransport trusts the fake Meta's certificate (roots; nil: the
// system's, for plain http where it is not asked) and speaks HTTP/2 to it
// over TLS, as Go's default client does to Meta: a custom TLS config
// would otherwise leave net/http on HTTP/1.1. Plain http (Vault) stays
// HTTP/1.1. Nothing skips verification.
func metaTransport(roots *x509.CertPool) *http.Transport {
	t := &http.Transport{Proxy: nil, ForceAttemptHTTP2: true}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return t
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

// RootCAs is the fake's certificate as a pool for a client's RootCAs; nil
// on plain http.
func (f *fakeMeta) RootCAs() *x509.CertPool { return f.roots }

// PluginEnv is what the plugin's environment needs to trust the fake:
// SSL_CERT_FILE naming its certificate, which Go's crypto/x509 reads on
// Linux in place of the system's bundle file (the system's certificate
// directories still count). Nil on plain http.
func (f *fakeMeta) PluginEnv() []string {
	if f.certPath == "" {
		return nil
	}
	return []string{"SSL_CERT_FILE=" + f.certPath}
}

// HTTPS says whether the fake serves https (HTTP/2).
func (f *fakeMeta) HTTPS() bool { return f.certPath != "" }

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

// Protocols reads how many requests the fake served by protocol and
// User-Agent, so far.
func (f *fakeMeta) Protocols() ([]graphtest.ProtocolCount, error) {
	resp, err := f.admin.Get(f.base + graphtest.ProtocolsPath)
	if err != nil {
		return nil, fmt.Errorf("fake Meta: GET %s: %w", graphtest.ProtocolsPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fake Meta: GET %s: HTTP %d", graphtest.ProtocolsPath, resp.StatusCode)
	}
	var out []graphtest.ProtocolCount
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("fake Meta: GET %s: %w", graphtest.ProtocolsPath, err)
	}
	return out, nil
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
