package vaultproc

import "net"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process can take it before Vault binds it (parallel tests race
// for ports), so whoever starts Vault on it retries on a clash: see
// PortTaken.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
