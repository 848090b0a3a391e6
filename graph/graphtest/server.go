package graphtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Defaults for Options.
const (
	DefaultAppID     = "1234567890"
	DefaultAppSecret = "fake-app-secret"
)

// Shape selects how a successful Instagram code exchange is encoded.
type Shape int

const (
	// ShapeAlternate answers the first exchange in the documented envelope
	// and the next flat, and so on, so that any test doing two exchanges
	// covers both shapes.
	ShapeAlternate Shape = iota
	// ShapeEnvelope: {"data":[{"access_token","user_id":"<string>","permissions":"a,b"}]}
	ShapeEnvelope
	// ShapeFlat: {"access_token","user_id":<number>,"permissions":["a","b"]}
	ShapeFlat
)

// Options configures a Server. The zero value is usable.
type Options struct {
	AppID, AppSecret string           // the one app the fake knows; defaults DefaultAppID / DefaultAppSecret
	Now              func() time.Time // the clock every expiry rule uses; default time.Now
	// KeepTokenOnRefresh makes a refresh extend the same token string.
	// By default a refresh returns a new token string and the old one
	// stays valid until its own expiry: Meta does not document which it
	// does, and rotation is the case a plugin must handle.
	KeepTokenOnRefresh bool
	// RequireAppSecretProof makes Graph calls with a user or Page token
	// fail without a correct appsecret_proof, as Meta does for apps with
	// "Require App Secret" on. A wrong proof fails either way.
	RequireAppSecretProof bool
	// ExchangeShape selects the encoding of code-exchange answers.
	ExchangeShape Shape
	// ConsentPage makes the login dialogs show a consent page (Allow,
	// Cancel) instead of approving at once (consent.go).
	ConsentPage bool
}

// Server is a fake of Meta's token endpoints, serving every host under a
// path prefix named after it (/graph.instagram.com/..., /graph.threads.net/...,
// ...), plus admin
// endpoints under /_fake/. It is safe for concurrent use.
type Server struct {
	appID, appSecret string
	clock            func() time.Time
	requireProof     bool
	shape            Shape

	hs        *httptest.Server // nil for NewUnstarted
	handler   http.Handler
	done      chan struct{} // closed by Close: releases hanging requests
	closeOnce sync.Once

	// mu guards everything below. Methods named ...Locked expect it held.
	mu      sync.Mutex
	offset  time.Duration // added to clock by Advance
	rotate  bool
	consent bool // login dialogs show a consent page
	latency time.Duration
	state   store
	stats   stats
	fails   map[string]*failRule
	// appProblem, when set, answers every endpoint call (SetAppProblem).
	appProblem graph.AppProblemKind
	// content is each account's media and containers (media.go), under a
	// lock of its own.
	content content
	// exchanges counts successful Instagram code exchanges, to alternate
	// their shape under ShapeAlternate.
	exchanges int
}

// New starts a Server on 127.0.0.1 at a free port. Close it when done.
func New(opts Options) *Server {
	s := NewUnstarted(opts)
	s.hs = httptest.NewServer(s.handler)
	return s
}

// NewUnstarted returns a Server that listens nowhere: serve Handler() from
// your own listener (as cmd/fakemeta does) and use EndpointsFor.
func NewUnstarted(opts Options) *Server {
	s := &Server{
		appID:        opts.AppID,
		appSecret:    opts.AppSecret,
		clock:        opts.Now,
		requireProof: opts.RequireAppSecretProof,
		shape:        opts.ExchangeShape,
		rotate:       !opts.KeepTokenOnRefresh,
		consent:      opts.ConsentPage,
		done:         make(chan struct{}),
		state:        newStore(),
		stats:        stats{calls: map[string]int{}},
		fails:        map[string]*failRule{},
	}
	if s.appID == "" {
		s.appID = DefaultAppID
	}
	if s.appSecret == "" {
		s.appSecret = DefaultAppSecret
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.handler = s.routes()
	return s
}

// Handler serves the fake (every host prefix and /_fake/).
func (s *Server) Handler() http.Handler { return s.handler }

// URL is the base URL of a started Server, "" for an unstarted one.
func (s *Server) URL() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// AppID and AppSecret are the credentials of the app the fake knows.
func (s *Server) AppID() string     { return s.appID }
func (s *Server) AppSecret() string { return s.appSecret }

// Endpoints returns base URLs that point each Meta host at this Server.
func (s *Server) Endpoints() graph.Endpoints { return EndpointsFor(s.URL()) }

// EndpointsFor returns the endpoints of a fake served at baseURL.
func EndpointsFor(baseURL string) graph.Endpoints {
	return graph.Endpoints{
		AuthBaseURL:          baseURL + "/www.instagram.com",
		APIBaseURL:           baseURL + "/api.instagram.com",
		GraphBaseURL:         baseURL + "/graph.instagram.com",
		FacebookAuthBaseURL:  baseURL + "/www.facebook.com",
		FacebookGraphBaseURL: baseURL + "/graph.facebook.com",
		ThreadsAuthBaseURL:   baseURL + "/threads.net",
		ThreadsGraphBaseURL:  baseURL + "/graph.threads.net",
		Version:              graph.DefaultVersion,
	}
}

// Close releases requests hanging on a Failure and stops the listener.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	if s.hs != nil {
		s.hs.Close()
	}
}

// Now is the fake's current time: Options.Now plus every Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.clock().Add(s.offset) }

// Advance moves the fake's clock forward by d, on top of Options.Now; it is
// how a standalone fake is driven past the 24-hour and 60-day rules.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetRotateOnRefresh turns refresh rotation on (the default) or off.
func (s *Server) SetRotateOnRefresh(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate = on
}
