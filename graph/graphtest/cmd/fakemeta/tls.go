package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Meta serves its hosts over https only, and Go's client (the plugin's
// included) speaks HTTP/2 to them, negotiated by ALPN. A benchmark or a
// test that wants the plugin's calls to take the path they take in
// production needs the fake on the same protocol: with -tls-cert-out it
// serves https with a certificate made at start, and writes that
// certificate (never its key, which stays in this process's memory) for
// the clients to trust, as a root of their own rather than by skipping
// verification.

// certValidity is how long the certificate is valid: a fake runs for a
// session, and a file left behind is soon worth nothing.
const certValidity = 24 * time.Hour

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, signed by its own key, valid from a minute before now (clock
// steps between processes) for certValidity. It returns the certificate
// with its key for the server and the certificate alone as PEM.
func selfSigned(now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "fakemeta", Organization: []string{"graphtest fake Meta"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certValidity),
		// Its own root: a client trusts it by holding it in RootCAs (or
		// SSL_CERT_FILE); it signs nothing else.
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// writeCertFile writes the PEM to path through a temporary file in the
// same directory, so that a reader never finds half a certificate, nor an
// earlier run's once this one has started.
func writeCertFile(path string, certPEM []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("-tls-cert-out: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(certPEM); err != nil {
		tmp.Close()
		return fmt.Errorf("-tls-cert-out: %w", err)
	}
	// A certificate is public: readable by all, as CA bundles are.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("-tls-cert-out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("-tls-cert-out: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("-tls-cert-out: %w", err)
	}
	return nil
}

// tlsConfig serves cert with HTTP/2 offered first by ALPN, then HTTP/1.1,
// as Meta's hosts do.
func tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}
