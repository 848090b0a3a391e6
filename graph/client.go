package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	defaultTimeout          = 30 * time.Second
	defaultMaxResponseBytes = 1 << 20
	defaultUserAgent        = "vault-plugin-secrets-instagram"
)

// Config configures a Client.
type Config struct {
	AppID, AppSecret string
	Endpoints        Endpoints
	HTTPClient       *http.Client // caller sets Timeout; nil -> a client with a 30 s timeout
	MaxResponseBytes int64        // larger responses fail with ErrResponseTooLarge; default 1 MiB
	UserAgent        string       // default "vault-plugin-secrets-instagram"
	// Observer, when set, hears about every call to Meta (metrics, the
	// app's health).
	Observer Observer
	// Now is the clock the times Meta states are bounded against
	// (checkMetaTime); nil: time.Now.
	Now func() time.Time
}

// Client calls Meta's token endpoints for one app. It holds no mutable
// state, so one Client may serve concurrent calls.
type Client struct {
	appID, appSecret string
	ep               Endpoints
	hc               *http.Client
	now              func() time.Time
	userAgent        string
}

// New returns a Client for cfg. Empty endpoint fields take Meta's defaults.
func New(cfg Config) *Client {
	hc := http.Client{Timeout: defaultTimeout}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // a copy: the caller's client is not modified
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	maxBytes := cfg.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxResponseBytes
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	// The size limit lives in the transport, not in each decoder, so that it
	// also holds for the calls golang.org/x/oauth2 makes on our behalf.
	// boundedTransport turns every redirect into an error; this is the
	// second line, should a redirect ever reach the client.
	hc.CheckRedirect = refuseRedirect
	hc.Transport = &boundedTransport{base: base, maxBytes: maxBytes, userAgent: ua, observer: cfg.Observer, appSecret: cfg.AppSecret}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		now:       now,
		appID:     cfg.AppID,
		appSecret: cfg.AppSecret,
		ep:        cfg.Endpoints.withDefaults(),
		hc:        &hc,
		userAgent: ua,
	}
}

// refuseRedirect is the client's CheckRedirect: never follow one.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("%s %w", via[len(via)-1].URL.Host, ErrRedirect)
}

// Endpoints returns the endpoints the client uses, defaults filled in.
func (c *Client) Endpoints() Endpoints { return c.ep }

// request is one call to Meta. secrets lists every secret value the request
// carries (app secret, token, code) so that errors built from its response
// can be redacted.
type request struct {
	name     string   // for errors: "refresh", "exchange code", ...
	endpoint Endpoint // for metrics
	method   string
	url      string
	query    url.Values
	form     url.Values // POST body, application/x-www-form-urlencoded
	secrets  []string
}

// fetch performs req and decodes a 2xx body with decode. Any non-2xx answer,
// and a 2xx answer that carries an error object, becomes an *Error.
func fetch[T any](ctx context.Context, c *Client, req request, decode func([]byte) (T, error)) (T, error) {
	var zero T
	status, header, body, err := c.do(withEndpoint(ctx, req.endpoint), req)
	if err != nil {
		return zero, err
	}
	if e := parseError(status, header, body, req.secrets); e != nil {
		return zero, e
	}
	v, err := decode(body)
	if err != nil {
		// Decode errors name fields and types, never values.
		return zero, fmt.Errorf("instagram: %s: %w", req.name, err)
	}
	return v, nil
}

// do sends req and returns the (already size-bounded) body.
func (c *Client) do(ctx context.Context, req request) (int, http.Header, []byte, error) {
	u := req.url
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var hreq *http.Request
	var err error
	if req.form != nil {
		hreq, err = http.NewRequestWithContext(ctx, req.method, u, strings.NewReader(req.form.Encode()))
		if err == nil {
			hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		hreq, err = http.NewRequestWithContext(ctx, req.method, u, nil)
	}
	if err != nil {
		// NewRequest quotes the URL it failed to parse; the URL has the query.
		return 0, nil, nil, fmt.Errorf("instagram: %s: invalid request URL %q", req.name, stripQuery(req.url))
	}
	hreq.Header.Set("Accept", "application/json")
	// Set here, the transport has no need to copy the request to add it
	// (it still does for the calls oauth2 makes).
	hreq.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return 0, nil, nil, transportError(req.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // already buffered and bounded by boundedTransport
	if err != nil {
		return 0, nil, nil, transportError(req.name, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// transportError wraps a failure to get a response. The *url.Error that
// net/http returns quotes the full request URL, and for Meta's GET token
// endpoints the query holds the token and the app secret: the query is
// dropped, and the cause (timeout, refused connection, ErrResponseTooLarge)
// stays reachable through errors.Is and errors.As.
func transportError(name string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}
	}
	return fmt.Errorf("instagram: %s: %w", name, err)
}

// stripQuery returns raw without its query and fragment.
func stripQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// appSecretProof is the appsecret_proof for token, or "" when the client has
// no secret (Meta rejects a wrong proof, while a missing one is only
// rejected by apps that require it).
func (c *Client) appSecretProof(token string) string {
	if c.appSecret == "" {
		return ""
	}
	return AppSecretProof(c.appSecret, token)
}

// setIf sets key in v when value is not empty.
func setIf(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}
