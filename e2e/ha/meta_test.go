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
// requests in two places:
//
//   - at the door, before Meta: a request held there has not reached Meta,
//     and one whose caller dies while held (its node was killed) never will;
//   - after Meta: Meta has refreshed the token and minted a new one, but its
//     answer waits; if the caller dies meanwhile, Meta issued a token that
//     Vault never learned of. That is the window between Meta's answer and
//     the plugin's write, seen from outside the plugin.
type fakeMeta struct {
	*graphtest.Server
	hs *httptest.Server

	mu sync.Mutex
	// refreshes and refreshErrors count, per Meta user id, the refresh
	// requests that reached the fake and those it answered with an error.
	refreshes     map[string]int
	refreshErrors map[string]int
	// allow is how many more refreshes pass before the door holds them; -1
	// is an open door. answer is how many of the held ones, after those,
	// Meta answers at once and holds only the answer of. release is closed
	// when the door opens.
	allow   int
	answer  int
	release chan struct{}
	held    int // refresh requests waiting at the door now
	aborted int // of those, the ones whose caller went away
	// heldAnswers and lostAnswers count, per Meta user id, answers waiting
	// now and answers whose caller went away before they were delivered.
	heldAnswers map[string]int
	lostAnswers map[string]int
}

func newFakeMeta(appID, appSecret string) *fakeMeta {
	f := &fakeMeta{
		// Rotation on refresh (graphtest's default): each refresh mints a
		// new token string, so a token lost by the cluster would show.
		Server:        graphtest.NewUnstarted(graphtest.Options{AppID: appID, AppSecret: appSecret}),
		refreshes:     map[string]int{},
		refreshErrors: map[string]int{},
		heldAnswers:   map[string]int{},
		lostAnswers:   map[string]int{},
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

// doorVerdict is what the door does with one refresh request.
type doorVerdict int

const (
	doorPass       doorVerdict = iota // Meta answers it, and the answer is delivered
	doorHoldAnswer                    // Meta answers it now; the answer waits for the door to open
	doorCallerGone                    // its caller went away while it waited before Meta
)

func (f *fakeMeta) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/refresh_access_token") {
		f.Server.Handler().ServeHTTP(w, r)
		return
	}
	user := "(unknown token)"
	if st, ok := f.TokenInfo(r.URL.Query().Get("access_token")); ok {
		user = st.UserID
	}
	verdict := f.admit(r.Context())
	if verdict == doorCallerGone {
		return // Meta never saw this refresh
	}
	rec := httptest.NewRecorder()
	f.Server.Handler().ServeHTTP(rec, r)
	f.mu.Lock()
	f.refreshes[user]++
	if rec.Code != http.StatusOK {
		f.refreshErrors[user]++
	}
	f.mu.Unlock()
	if verdict == doorHoldAnswer && !f.holdAnswer(r.Context(), user) {
		return // Meta refreshed the token; its caller never learns the new one
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// admit decides what happens to a refresh, holding it before Meta while
// the door is closed and it is not one of those whose answer is held.
func (f *fakeMeta) admit(ctx context.Context) doorVerdict {
	f.mu.Lock()
	switch {
	case f.allow != 0:
		if f.allow > 0 {
			f.allow--
		}
		f.mu.Unlock()
		return doorPass
	case f.answer > 0:
		f.answer--
		f.mu.Unlock()
		return doorHoldAnswer
	}
	f.held++
	release := f.release
	f.mu.Unlock()
	select {
	case <-release:
		f.mu.Lock()
		f.held--
		f.mu.Unlock()
		return doorPass
	case <-ctx.Done():
		f.mu.Lock()
		f.held--
		f.aborted++
		f.mu.Unlock()
		return doorCallerGone
	}
}

// holdAnswer keeps Meta's answer to user's refresh until the door opens;
// false when the caller went away first.
func (f *fakeMeta) holdAnswer(ctx context.Context, user string) bool {
	f.mu.Lock()
	f.heldAnswers[user]++
	release := f.release
	f.mu.Unlock()
	var delivered bool
	select {
	case <-release:
		delivered = true
	case <-ctx.Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.heldAnswers[user]--; f.heldAnswers[user] == 0 {
		delete(f.heldAnswers, user)
	}
	if !delivered {
		f.lostAnswers[user]++
	}
	return delivered
}

// holdRefreshesAfter lets pass more refreshes reach Meta, then lets Meta
// answer the next answer ones but holds their answers, and holds the rest
// at the door, all until openDoor.
func (f *fakeMeta) holdRefreshesAfter(pass, answer int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allow < 0 {
		f.release = make(chan struct{})
	}
	f.allow, f.answer = pass, answer
}

func (f *fakeMeta) openDoor() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allow >= 0 {
		f.allow, f.answer = -1, 0
		close(f.release)
	}
}

// door reports how many refreshes wait at the door, how many of those gave
// up, and how many answers wait after Meta.
func (f *fakeMeta) door() (held, aborted, answersHeld int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.heldAnswers {
		answersHeld += n
	}
	return f.held, f.aborted, answersHeld
}

// answers returns, per Meta user id, the answers waiting after Meta now
// and those whose caller went away before they were delivered.
func (f *fakeMeta) answers() (held, lost map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.heldAnswers), maps.Clone(f.lostAnswers)
}

// refreshCounts returns, per Meta user id, the refreshes that reached Meta
// and those Meta refused or failed.
func (f *fakeMeta) refreshCounts() (reached, errored map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.refreshes), maps.Clone(f.refreshErrors)
}
