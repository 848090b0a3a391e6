package main

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// The command answers graphtest.ProtocolsPath itself: how many requests
// the fake served by protocol and User-Agent, so that a benchmark can show
// that the plugin's calls took the protocol it meant (HTTP/2 over TLS, as
// to Meta) and not a fallback. It counts, in front of the fake, what
// reached its listener.

// maxProtocolKeys bounds the (protocol, User-Agent) pairs counted apart: a
// caller varying its header cannot grow the counts without end; past the
// bound, new pairs are counted together under otherKey.
const maxProtocolKeys = 64

var otherKey = protocolKey{"(other)", "(other)"}

type protocolKey struct{ proto, userAgent string }

// protocolCounter counts requests by protocol and User-Agent in front of
// the fake. One lock and a map increment a request: nothing next to a
// request's own cost, measured or not.
type protocolCounter struct {
	next http.Handler

	mu     sync.Mutex
	counts map[protocolKey]int
	order  []protocolKey // first seen first
}

func countProtocols(next http.Handler) *protocolCounter {
	return &protocolCounter{next: next, counts: map[protocolKey]int{}}
}

func (p *protocolCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == graphtest.ProtocolsPath && r.Method == http.MethodGet {
		p.serveCounts(w)
		return
	}
	p.count(protocolKey{r.Proto, r.UserAgent()})
	p.next.ServeHTTP(w, r)
}

func (p *protocolCounter) count(k protocolKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.counts[k]; !seen {
		if len(p.order) >= maxProtocolKeys {
			k = otherKey
		}
		if _, seen := p.counts[k]; !seen {
			p.order = append(p.order, k)
		}
	}
	p.counts[k]++
}

func (p *protocolCounter) serveCounts(w http.ResponseWriter) {
	p.mu.Lock()
	out := make([]graphtest.ProtocolCount, 0, len(p.order))
	for _, k := range p.order {
		out = append(out, graphtest.ProtocolCount{Proto: k.proto, UserAgent: k.userAgent, Requests: p.counts[k]})
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
