package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrResponseTooLarge is returned (wrapped) when a response body exceeds
// Config.MaxResponseBytes. A token response is a few hundred bytes; a
// multi-megabyte one is a broken proxy or a hostile host, and must not be
// read into memory.
var ErrResponseTooLarge = errors.New("response body too large")

// ErrRedirect is returned (wrapped) when a host the engine calls answers a
// redirect. Following one would re-send the request, with the code, the
// token or the app secret it carries, to wherever the answer points, plain
// http included: past the base URL rule the engine applies to config.
var ErrRedirect = errors.New("answered a redirect, which the engine never follows")

// ErrMalformedResponse is returned (wrapped) when a successful response
// cannot be decoded into what the endpoint documents.
var ErrMalformedResponse = errors.New("malformed response")

// boundedTransport reads every response body in full, through an
// io.LimitReader, before handing the response on. Doing it here rather
// than in each caller means the bound also holds for golang.org/x/oauth2
// (whose own limit is a fixed 1 MiB), and an oversize body surfaces as an
// error that errors.Is can find, which oauth2 would otherwise flatten into
// a string.
//
// It is also where every exchange is observed (Observer): the one place
// that sees oauth2's calls as well as the client's own.
type boundedTransport struct {
	base      http.RoundTripper
	maxBytes  int64
	userAgent string
	observer  Observer // nil: none
	appSecret string   // redacted from what the observer is told
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.userAgent)
	}
	start := time.Now()
	resp, body, err := t.roundTrip(req)
	if t.observer != nil {
		observe(t.observer, req, time.Since(start), resp, body, t.appSecret)
	}
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// roundTrip sends req and reads the whole body, bounded; resp is nil when
// no usable answer came.
func (t *boundedTransport) roundTrip(req *http.Request) (*http.Response, []byte, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	if isRedirect(resp.StatusCode) {
		// Refused here, where every call passes (oauth2's too), so that
		// http.Client never sees a redirect to follow. The error names
		// the host that answered, not the Location: that is the answering
		// host's text, and may carry the request's query back.
		resp.Body.Close()
		return nil, nil, fmt.Errorf("%s %w (HTTP %d)", req.URL.Host, ErrRedirect, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > t.maxBytes {
		return nil, nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, t.maxBytes)
	}
	return resp, body, nil
}

// isRedirect reports whether status is one http.Client follows.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
