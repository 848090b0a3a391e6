package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

// newFakeClock is the clock a test starts with.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// memStore is a Store in a map, counting its calls.
type memStore struct {
	mu    sync.Mutex
	data  map[string][]byte
	lists int
}

func newMemStore() *memStore { return &memStore{data: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

func (s *memStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = slices.Clone(value)
	return nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	return nil
}

func (s *memStore) List(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	var keys []string
	for k := range s.data {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !strings.Contains(rest, "/") {
			keys = append(keys, rest)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// storedIDs is the ids of the events in s, oldest first.
func (s *memStore) storedIDs(t *testing.T) []string {
	t.Helper()
	keys, _ := s.List(context.Background(), StoragePrefix)
	var ids []string
	for _, k := range keys {
		_, id, ok := parseEventKey(k)
		if !ok {
			t.Fatalf("stored key %q is not an event key", k)
		}
		ids = append(ids, id)
	}
	return ids
}

// delivery is one request a receiver got.
type delivery struct {
	event     Event
	body      []byte
	signature string
	status    int
}

// receiver is an httptest server that records every request and answers
// with what answer says for the n-th request (0-based) carrying an event.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(n int, ev Event) int
}

func newReceiver(t *testing.T, answer func(n int, ev Event) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("the receiver got a body that is not an event: %v", err)
		}
		r.mu.Lock()
		n := len(r.got)
		status := r.answer(n, ev)
		r.got = append(r.got, delivery{event: ev, body: body, signature: req.Header.Get(SignatureHeader), status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// ids is the event id of every request, in order.
func (r *receiver) ids() []string {
	var ids []string
	for _, d := range r.deliveries() {
		ids = append(ids, d.event.ID)
	}
	return ids
}

func always(status int) func(int, Event) int {
	return func(int, Event) int { return status }
}

const testSecret = "receiver-shared-secret"

// testOutbox is an outbox on clock that never lingers (each test says when
// the next periodic run comes), with jitter fixed at its top.
func testOutbox(clock Clock, opts Options) *Outbox {
	opts.Clock = clock
	if opts.Linger == 0 {
		opts.Linger = -1
	}
	if opts.Jitter == nil {
		opts.Jitter = func() float64 { return 0.999 }
	}
	return New(opts)
}

// runOnce is one periodic run, waited for.
func runOnce(o *Outbox, s Store, t Target) {
	o.Run(s, t)
	o.Wait()
}

func enqueue(t *testing.T, o *Outbox, s Store, typ Type, account string) Event {
	t.Helper()
	ev, err := o.Enqueue(context.Background(), s, Event{Type: typ, Account: account, Status: "needs_reauth", Reason: "test"})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return ev
}
