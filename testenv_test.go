package instagram

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

const (
	testAppID       = "1234567890"
	testAppSecret   = "test-app-secret-value"
	testRedirectURI = "https://vault.example.com/v1/instagram/callback"
)

// newFakeClock is the clock a test environment starts with.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// testEnv is a backend on in-memory storage wired to an in-process fake Meta
// that shares the backend's clock.
type testEnv struct {
	t       *testing.T
	b       *backend
	storage logical.Storage
	clock   *testclock.Clock
	meta    *graphtest.Server
	logs    *syncBuffer
	// secrets are values that must never appear in logs; checked at cleanup.
	secrets []string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvConf(t, nil)
}

// newTestEnvConf is newTestEnv with adjust given the backend's config
// before Setup (an event sender, say).
func newTestEnvConf(t *testing.T, adjust func(*logical.BackendConfig)) *testEnv {
	t.Helper()
	clk := newFakeClock()
	meta := graphtest.New(graphtest.Options{AppID: testAppID, AppSecret: testAppSecret, Now: clk.Now})
	t.Cleanup(meta.Close)

	logs := &syncBuffer{}
	conf := logical.TestBackendConfig()
	conf.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Trace})
	conf.StorageView = &logical.InmemStorage{}
	if adjust != nil {
		adjust(conf)
	}

	b := newBackend(backendOptions{clock: clk, jitter: func() float64 { return 1 }})
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	if err := b.Initialize(context.Background(), &logical.InitializationRequest{Storage: conf.StorageView}); err != nil {
		t.Fatal(err)
	}
	b.bgWG.Wait() // the schedule is built in the background
	e := &testEnv{t: t, b: b, storage: conf.StorageView, clock: clk, meta: meta, logs: logs, secrets: []string{testAppSecret}}
	t.Cleanup(e.checkLogsClean)
	return e
}

// configure writes a config pointing at the fake.
func (e *testEnv) configure(extra map[string]any) {
	e.t.Helper()
	ep := e.meta.Endpoints()
	data := map[string]any{
		"app_id":                  testAppID,
		"app_secret":              testAppSecret,
		"redirect_uri":            testRedirectURI,
		"auth_base_url":           ep.AuthBaseURL,
		"api_base_url":            ep.APIBaseURL,
		"graph_base_url":          ep.GraphBaseURL,
		"facebook_auth_base_url":  ep.FacebookAuthBaseURL,
		"facebook_graph_base_url": ep.FacebookGraphBaseURL,
		"threads_auth_base_url":   ep.ThreadsAuthBaseURL,
		"threads_graph_base_url":  ep.ThreadsGraphBaseURL,
	}
	for k, v := range extra {
		data[k] = v
	}
	e.mustOK(e.do(logical.UpdateOperation, "config", data))
}

func (e *testEnv) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	e.t.Helper()
	req := &logical.Request{
		Operation: op,
		Path:      path,
		Data:      data,
		Storage:   e.storage,
	}
	if op == logical.UpdateOperation || op == logical.CreateOperation {
		found, exists, err := e.b.HandleExistenceCheck(context.Background(), req)
		if err == nil && found && !exists && op == logical.UpdateOperation {
			req.Operation = logical.CreateOperation
		}
	}
	return e.b.HandleRequest(context.Background(), req)
}

func (e *testEnv) read(path string) (*logical.Response, error) {
	return e.do(logical.ReadOperation, path, nil)
}

func (e *testEnv) write(path string, data map[string]any) (*logical.Response, error) {
	return e.do(logical.UpdateOperation, path, data)
}

func (e *testEnv) mustOK(resp *logical.Response, err error) *logical.Response {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("unexpected error: %v", err)
	}
	if resp != nil && resp.IsError() {
		e.t.Fatalf("unexpected error response: %v", resp.Error())
	}
	return resp
}

// metricsHold checks that the metrics exposition holds each of the lines
// want, and returns the exposition.
func (e *testEnv) metricsHold(want ...string) string {
	e.t.Helper()
	out, _, err := e.b.metrics.exposition()
	if err != nil {
		e.t.Fatal(err)
	}
	text := string(out)
	for _, w := range want {
		if !strings.Contains(text, w) {
			e.t.Errorf("metrics lack %s", w)
		}
	}
	return text
}

// mustFail asserts a 400-style error response whose message contains want.
func (e *testEnv) mustFail(resp *logical.Response, err error, want string) {
	e.t.Helper()
	msg := ""
	switch {
	case err != nil:
		msg = err.Error()
	case resp != nil && resp.IsError():
		msg = resp.Error().Error()
	default:
		e.t.Fatalf("expected an error containing %q, got success: %#v", want, resp)
	}
	if !strings.Contains(msg, want) {
		e.t.Fatalf("error %q does not contain %q", msg, want)
	}
	for _, s := range e.secrets {
		if s != "" && strings.Contains(msg, s) {
			e.t.Fatalf("error message leaks a secret: %q", msg)
		}
	}
}

// registerFromCode mints a code for a new fake user and registers it.
func (e *testEnv) registerFromCode(name, username string) graphtest.User {
	e.t.Helper()
	u := e.meta.AddUser(username)
	code := e.meta.MintCode(u.UserID, []string{"instagram_business_basic", "instagram_business_content_publish"}, testRedirectURI)
	e.secrets = append(e.secrets, code)
	e.mustOK(e.write("accounts/"+name, map[string]any{"code": code + "#_"}))
	e.secrets = append(e.secrets, e.meta.CurrentToken(u.UserID))
	return u
}

// registerLongLived registers a long-lived token issued at issuedAt, with
// its expiry given to the engine.
func (e *testEnv) registerLongLived(name, username string, issuedAt time.Time) graphtest.User {
	e.t.Helper()
	u := e.meta.AddUser(username)
	tok := e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, issuedAt)
	e.secrets = append(e.secrets, tok)
	e.mustOK(e.write("accounts/"+name, map[string]any{
		"access_token": tok,
		"expires_at":   issuedAt.Add(longLivedLifetime).Format(time.RFC3339),
	}))
	return u
}

// tick runs one periodic run as Vault would.
func (e *testEnv) tick() {
	e.t.Helper()
	if err := e.b.PeriodicFunc(context.Background(), &logical.Request{Storage: e.storage}); err != nil {
		e.t.Fatalf("periodic: %v", err)
	}
}

func (e *testEnv) account(name string) *account {
	e.t.Helper()
	a, err := loadAccount(context.Background(), e.storage, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// storageSnapshot copies every stored entry, to prove a failed write
// changed nothing.
func (e *testEnv) storageSnapshot() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	keys, err := logical.CollectKeys(context.Background(), e.storage)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		entry, err := e.storage.Get(context.Background(), k)
		if err != nil {
			e.t.Fatal(err)
		}
		out[k] = string(entry.Value)
	}
	return out
}

func (e *testEnv) checkLogsClean() {
	logs := e.logs.String()
	for _, s := range e.secrets {
		if s != "" && strings.Contains(logs, s) {
			e.t.Errorf("a secret reached the plugin log")
		}
	}
}
