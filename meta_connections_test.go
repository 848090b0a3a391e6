package instagram

import (
	"net/http"
	"testing"
)

// TestMetaConnectionsAreReusedUnderConcurrency: the default client keeps
// enough idle connections to a Meta host for concurrent calls (refreshes,
// proxied calls) to reuse them instead of opening a connection (a TLS
// handshake at Meta) per call; the pooled default keeps GOMAXPROCS+1.
func TestMetaConnectionsAreReusedUnderConcurrency(t *testing.T) {
	b := newBackend(backendOptions{})
	tr, ok := b.httpClient.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", b.httpClient.Transport)
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.MaxIdleConns != 0 && tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Fatalf("idle connections: %d per host, %d in all; want at least 64 per host", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
}
