package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// hostRecorder is an HTTP transport that records every host it is asked to
// reach, passes loopback calls (the fake Meta) on, and fails the others
// (no network in unit tests).
type hostRecorder struct {
	mu    sync.Mutex
	hosts map[string]int
}

func (r *hostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.hosts == nil {
		r.hosts = map[string]int{}
	}
	r.hosts[req.URL.Hostname()]++
	r.mu.Unlock()
	if req.URL.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("no network to %s in unit tests", req.URL.Hostname())
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *hostRecorder) calls(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hosts[host]
}

// TestConfigStoredBeforeTheBaseURLRuleIsCheckedWhenRead: a config record
// stored before the engine checked base URLs (written here straight into
// storage) with a plain-http base URL on a host that is not loopback is
// checked when it is read: nothing is sent there (not a manual refresh,
// nor the periodic one, nor a registration: each refused with a 400
// naming the field), status says so as an error-level health finding,
// and writing config again with a valid URL lifts it. Before, such a
// record was honoured until its next write, sending tokens (and, on code
// exchanges, the app secret) over plain http.
func TestConfigStoredBeforeTheBaseURLRuleIsCheckedWhenRead(t *testing.T) {
	e := newTestEnv(t)
	rec := &hostRecorder{}
	e.b.httpClient = &http.Client{Transport: rec, Timeout: 5 * time.Second}
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour)) // due: within refresh_window

	// The record as an older version left it: graph_base_url over plain
	// http to a host of the network's.
	entry, err := e.storage.Get(context.Background(), configStoragePath)
	if err != nil || entry == nil {
		t.Fatal(entry, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(entry.Value, &raw); err != nil {
		t.Fatal(err)
	}
	raw["graph_base_url"] = "http://graph.proxy.example"
	old, _ := logical.StorageEntryJSON(configStoragePath, raw)
	if err := e.storage.Put(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	e.b.resetConfig() // a restart, or another node's write: the next read decodes the record

	resp, err := e.write("accounts/shop/refresh", nil)
	e.mustFail(resp, err, "graph_base_url")
	if st := httpStatus(resp, err); st != http.StatusBadRequest {
		t.Fatalf("manual refresh: HTTP %d, want 400", st)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	resp, err = e.write("accounts/other", map[string]any{"access_token": "IGAAsome-token-for-registration"})
	e.mustFail(resp, err, "graph_base_url")
	if n := rec.calls("graph.proxy.example"); n != 0 {
		t.Fatalf("%d calls went to the plain-http host", n)
	}
	if a := e.account("shop"); a.LastRefreshedAt.After(time.Time{}) || a.ConsecutiveFailures != 0 {
		t.Fatalf("the account was touched: %+v", a)
	}

	status := e.mustOK(e.read("status"))
	findings := strings.Join(status.Data["health_findings"].([]string), "\n")
	if status.Data["health"] != healthError || !strings.Contains(findings, "graph_base_url") || !strings.Contains(findings, "graph.proxy.example") {
		t.Fatalf("status: health %v, findings %q; want an error naming graph_base_url and its host", status.Data["health"], findings)
	}

	// Writing config again with a valid base URL lifts it.
	e.configure(nil)
	e.mustOK(e.write("accounts/shop/refresh", nil))
	if status := e.mustOK(e.read("status")); status.Data["health"] != healthOK {
		t.Fatalf("after a valid write: health %v, findings %v", status.Data["health"], status.Data["health_findings"])
	}
}
