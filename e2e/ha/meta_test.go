//go:build ha

package ha

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// fakeMeta is graphtest's fake of Meta, served behind a front door that
// knows, for every refresh request, whose token it carries. It counts the
// refreshes that reached Meta per Instagram user (the proof that a cluster
// refreshes each account once, not once per node), and it can hold refresh
// requests at the door: a request held there has not reached Meta, and one
// whose caller dies while held (its node was killed) never will.
type fakeMeta struct {
	*graphtest.Server
	hs *httptest.Server

	mu sync.Mutex
	// refreshes and refreshErrors count, per Meta user id, the refresh
	// requests that reached the fake and those it answered with an error.
	refreshes     map[string]int
	refreshErrors map[string]int
	// allow is how many more refreshes pass before the door holds them; -1
	// is an open door. release is closed when the door opens.
	allow   int
	release chan struct{}
	held    int // refresh requests waiting at the door now
	aborted int // held requests whose caller went away
}

func newFakeMeta(appID, appSecret string) *fakeMeta {
	f := &fakeMeta{
		// Rotation on refresh (graphtest's default): each refresh mints a
		// new token string, so a token lost by the cluster would show.
		Server:        graphtest.NewUnstarted(graphtest.Options{AppID: appID, AppSecret: appSecret}),
		refreshes:     map[string]int{},
		refreshErrors: map[string]int{},
		allow:         -1,
	}
	f.hs = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Endpoints points every Meta host at the front door.
func (f *fakeMeta) Endpoints() graph.Endpoints { return graphtest.EndpointsFor(f.hs.URL) }

// Close opens the door (held requests, if any are left, go through or give
// up with their callers) and stops the fake.
func (f *fakeMeta) Close() {
	f.openDoor()
	f.Server.Close()
	f.hs.Close()
}

func (f *fakeMeta) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/refresh_access_token") {
		f.Server.Handler().ServeHTTP(w, r)
		return
	}
	user := "(unknown token)"
	if st, ok := f.TokenInfo(r.URL.Query().Get("access_token")); ok {
		user = st.UserID
	}
	if !f.admit(r.Context()) {
		return // the caller is gone; Meta never saw this refresh
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	f.Server.Handler().ServeHTTP(sw, r)
	f.mu.Lock()
	f.refreshes[user]++
	if sw.status != http.StatusOK {
		f.refreshErrors[user]++
	}
	f.mu.Unlock()
}

// admit lets a refresh through the door, holding it while the door is
// closed; false when the caller went away first.
func (f *fakeMeta) admit(ctx context.Context) bool {
	f.mu.Lock()
	if f.allow != 0 {
		if f.allow > 0 {
			f.allow--
		}
		f.mu.Unlock()
		return true
	}
	f.held++
	release := f.release
	f.mu.Unlock()
	select {
	case <-release:
		f.mu.Lock()
		f.held--
		f.mu.Unlock()
		return true
	case <-ctx.Done():
		f.mu.Lock()
		f.held--
		f.aborted++
		f.mu.Unlock()
		return false
	}
}

// holdRefreshesAfter lets n more refreshes reach Meta and holds the rest at
// the door until openDoor.
func (f *fakeMeta) holdRefreshesAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allow < 0 {
		f.release = make(chan struct{})
	}
	f.allow = n
}

func (f *fakeMeta) openDoor() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allow >= 0 {
		f.allow = -1
		close(f.release)
	}
}

// door reports how many refreshes wait at the door and how many gave up.
func (f *fakeMeta) door() (held, aborted int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held, f.aborted
}

// refreshCounts returns, per Meta user id, the refreshes that reached Meta
// and those Meta refused or failed.
func (f *fakeMeta) refreshCounts() (reached, errored map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.refreshes), maps.Clone(f.refreshErrors)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
