package graphtest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// latencyOf is the delay the server currently adds to every endpoint.
func latencyOf(s *Server) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// TestAdminLatencySetsTheDelay: POST /_fake/latency sets what SetLatency
// sets (a process running the fake, such as the benchmark's, has no other
// way to), answers it, and refuses a latency that is not a duration in
// 0..60s or an unknown field with a 400 naming the field.
func TestAdminLatencySetsTheDelay(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	post := func(body string) response {
		t.Helper()
		resp, err := http.Post(s.URL()+"/_fake/latency", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, body: string(b)}
	}

	if r := post(`{"latency":"100ms"}`); r.status != http.StatusOK || !strings.Contains(r.body, `"latency":"100ms"`) {
		t.Fatalf("set 100ms: %d %s", r.status, r.body)
	}
	if got := latencyOf(s); got != 100*time.Millisecond {
		t.Fatalf("latency after the admin call = %v, want 100ms", got)
	}

	// A real delay, kept to a few milliseconds: a timer never fires early,
	// so the call takes at least that long.
	if r := post(`{"latency":"5ms"}`); r.status != http.StatusOK {
		t.Fatalf("set 5ms: %d %s", r.status, r.body)
	}
	start := time.Now()
	do(t, http.MethodGet, s.Endpoints().GraphBaseURL+"/me", nil)
	if took := time.Since(start); took < 5*time.Millisecond {
		t.Fatalf("a /me call with 5ms latency took %v", took)
	}

	for _, body := range []string{`{"latency":"-1ms"}`, `{"latency":"61s"}`, `{"latency":"soon"}`, `{"latency":""}`, `{}`} {
		if r := post(body); r.status != http.StatusBadRequest || !strings.Contains(r.body, "latency") {
			t.Errorf("%s: %d %s, want a 400 naming latency", body, r.status, r.body)
		}
	}
	if r := post(`{"latency":"1ms","delay":"2ms"}`); r.status != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}
	if got := latencyOf(s); got != 5*time.Millisecond {
		t.Fatalf("refused requests changed the latency to %v", got)
	}

	if r := post(`{"latency":"60s"}`); r.status != http.StatusOK {
		t.Fatalf("60s, the bound: %d %s", r.status, r.body)
	}
	if r := post(`{"latency":"0s"}`); r.status != http.StatusOK || latencyOf(s) != 0 {
		t.Fatalf("0s clears: %d %s, latency %v", r.status, r.body, latencyOf(s))
	}
}
