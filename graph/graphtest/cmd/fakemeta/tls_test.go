package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestRunServesHTTPSWithTheWrittenCertificate: with -tls-cert-out the fake
// serves https, as Meta does, and prints https URLs; the file holds the
// certificate alone (no key), for 127.0.0.1, ::1 and localhost, short-lived;
// a client trusting only that file reaches it over HTTP/2, and one with the
// system's roots alone is refused. The protocol count says which protocol
// each caller used.
func TestRunServesHTTPSWithTheWrittenCertificate(t *testing.T) {
	certPath := filepath.Join(t.TempDir(), "fakemeta-ca.pem")
	base, printed := startRun(t, "", "-tls-cert-out", certPath)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base URL %q, want https", base)
	}
	for k, v := range printed {
		if !strings.HasPrefix(v, base+"/") {
			t.Errorf("printed %s=%s, not under %s", k, v, base)
		}
	}

	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(certPEM, []byte("PRIVATE KEY")) {
		t.Fatal("the certificate file holds a private key")
	}
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				t.Fatalf("the certificate file holds more than PEM: %q", rest)
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			t.Fatalf("the certificate file holds a %s block", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 1 {
		t.Fatalf("%d certificates in the file, want 1", len(certs))
	}
	c := certs[0]
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
	}
	if life := c.NotAfter.Sub(c.NotBefore); life > 25*time.Hour || time.Now().Before(c.NotBefore) || time.Now().After(c.NotAfter) {
		t.Errorf("valid %s to %s (%s), want valid now and for about a day", c.NotBefore, c.NotAfter, life)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage %v, want ServerAuth", c.ExtKeyUsage)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := c.VerifyHostname(host); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("the file holds no certificate a pool takes")
	}
	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true,
	}}
	defer trusting.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, printed["graph_base_url"]+"/"+graphtest.EndpointsFor(base).Version+"/me?access_token=IGAAnone", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "tls-test/1")
	resp, err := trusting.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("GET me over %s, want HTTP/2", resp.Proto)
	}
	if resp.StatusCode != http.StatusBadRequest { // 190: an unknown token, answered by the fake
		t.Errorf("GET me: HTTP %d", resp.StatusCode)
	}
	resp, err = trusting.Post(base+"/_fake/codes", "application/json", strings.NewReader(`{"username":"shop","redirect_uri":"http://localhost/cb"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("admin API: HTTP %d over %s", resp.StatusCode, resp.Proto)
	}

	// The system's roots alone do not trust it: nothing here skips
	// verification, and the certificate is not one of the machine's.
	system := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true}}
	defer system.CloseIdleConnections()
	_, err = system.Get(base + "/_fake/calls")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client with the system roots: %v, want an unknown authority", err)
	}

	// Plain http on the https port is refused: the fake serves TLS only.
	plain := "http" + strings.TrimPrefix(base, "https")
	if resp, err := http.Get(plain + "/_fake/calls"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain http to the https fake: HTTP %d", resp.StatusCode)
		}
	}

	counts := protocolCounts(t, trusting, base)
	if got := counts[protocolKey{"HTTP/2.0", "tls-test/1"}]; got != 1 {
		t.Errorf("the protocol count says %d HTTP/2.0 requests from tls-test/1, want 1: %v", got, counts)
	}
}

// protocolCounts reads GET /_fakemeta/protocols.
func protocolCounts(t *testing.T, client *http.Client, base string) map[protocolKey]int {
	t.Helper()
	resp, err := client.Get(base + graphtest.ProtocolsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []graphtest.ProtocolCount
	if err := json.NewDecoder(resp.Body).Decode(&lines); err != nil {
		t.Fatal(err)
	}
	out := map[protocolKey]int{}
	for _, l := range lines {
		out[protocolKey{l.Proto, l.UserAgent}] = l.Requests
	}
	return out
}

// TestRunWithoutTLSServesPlainHTTP1: without -tls-cert-out nothing changes,
// plain http, which Go's client speaks as HTTP/1.1 (make dev, e2e).
func TestRunWithoutTLSServesPlainHTTP1(t *testing.T) {
	base, _ := startRun(t, "")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q, want http", base)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, base+"/_fake/calls", nil)
	req.Header.Set("User-Agent", "plain-test/1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 1 {
		t.Fatalf("GET /_fake/calls: HTTP %d over %s", resp.StatusCode, resp.Proto)
	}
	if got := protocolCounts(t, client, base)[protocolKey{"HTTP/1.1", "plain-test/1"}]; got != 1 {
		t.Errorf("the protocol count says %d HTTP/1.1 requests from plain-test/1, want 1", got)
	}
}

// TestRunRefusesAnUnwritableCertificatePath: a certificate it cannot write
// is an error before anything is served, not an https fake nobody trusts.
func TestRunRefusesAnUnwritableCertificatePath(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-tls-cert-out", filepath.Join(t.TempDir(), "no", "such", "dir", "ca.pem")}, strings.NewReader(""), &out)
	if err == nil || !strings.Contains(err.Error(), "-tls-cert-out") {
		t.Fatalf("run = %v", err)
	}
	if strings.Contains(out.String(), "listening") {
		t.Fatalf("printed %q before failing", out.String())
	}
}

// TestProtocolCountIsBounded: a caller varying its User-Agent adds to one
// shared count past maxProtocolKeys, and every request is still counted.
func TestProtocolCountIsBounded(t *testing.T) {
	p := countProtocols(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const n = maxProtocolKeys + 10
	for i := range n {
		r := httptest.NewRequest(http.MethodGet, "/graph.instagram.com/me", nil)
		r.Header.Set("User-Agent", fmt.Sprint("ua-", i))
		p.ServeHTTP(httptest.NewRecorder(), r)
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, graphtest.ProtocolsPath, nil))
	var lines []graphtest.ProtocolCount
	if err := json.Unmarshal(rec.Body.Bytes(), &lines); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range lines {
		total += l.Requests
	}
	if len(lines) != maxProtocolKeys+1 || total != n || lines[maxProtocolKeys].Requests != 10 || lines[maxProtocolKeys].UserAgent != otherKey.userAgent {
		t.Fatalf("%d lines, %d requests, last %+v", len(lines), total, lines[len(lines)-1])
	}
}
