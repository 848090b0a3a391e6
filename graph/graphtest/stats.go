package graphtest

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// maxUserAgents bounds the User-Agents the fake remembers: a caller that
// varies its header cannot grow it without end.
const maxUserAgents = 64

// stats counts what the fake served. Server.mu guards it.
type stats struct {
	calls       map[string]int
	last        map[string]url.Values // each endpoint's last request's parameters
	userAgents  []string              // distinct, in the order first seen
	inFlight    int
	maxInFlight int
}

// Calls is how many requests the endpoint (an Endpoint* name) received,
// failed ones included.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.calls[endpoint]
}

// LastRequest is the parameters (query and form) of the last request the
// endpoint received, token and appsecret_proof included: what Meta saw.
// Nil before any.
func (s *Server) LastRequest(endpoint string) url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.last[endpoint]
}

// AllCalls returns every endpoint's count.
func (s *Server) AllCalls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.stats.calls)
}

// UserAgents lists the distinct User-Agent headers the endpoints received
// (failed requests included), in the order first seen: what Meta would log
// of the caller.
func (s *Server) UserAgents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stats.userAgents)
}

// MaxConcurrent is the highest number of endpoint requests in flight at
// once, for tests of a caller's concurrency bound.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.maxInFlight
}

// SetLatency delays every endpoint request by d (a real wait, for
// benchmarks and concurrency tests; it ends early when the client gives up).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// serve runs one endpoint request: it is counted, delayed by the latency,
// and answered by an injected Failure when one is due, else by h.
func (s *Server) serve(endpoint string, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	_ = r.ParseForm() // the handlers read the same parameters (FormValue)
	seen := url.Values{}
	for k, v := range r.Form {
		seen[k] = slices.Clone(v)
	}
	s.mu.Lock()
	s.stats.calls[endpoint]++
	if s.stats.last == nil {
		s.stats.last = map[string]url.Values{}
	}
	s.stats.last[endpoint] = seen
	if ua := r.UserAgent(); len(s.stats.userAgents) < maxUserAgents && !slices.Contains(s.stats.userAgents, ua) {
		s.stats.userAgents = append(s.stats.userAgents, ua)
	}
	s.stats.inFlight++
	s.stats.maxInFlight = max(s.stats.maxInFlight, s.stats.inFlight)
	latency := s.latency
	failure, failing := s.takeFailureLocked(endpoint)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.inFlight--
		s.mu.Unlock()
	}()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		}
	}
	if failing {
		s.writeFailure(w, r, failure)
		return
	}
	h(w, r)
}
