package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrResponseTooLarge is returned (wrapped) when a response body exceeds
// Config.MaxResponseBytes. A token response is a few hundred bytes; a
// multi-megabyte one is a broken proxy or a hostile host, and must not be
// read into memory.
var ErrResponseTooLarge = errors.New("response body too large")

// ErrMalformedResponse is returned (wrapped) when a successful response
// cannot be decoded into what the endpoint documents.
var ErrMalformedResponse = errors.New("malformed response")

// boundedTransport reads every response body in full, through an
// io.LimitReader, before handing the response on. Doing it here rather
// than in each caller means the bound also holds for golang.org/x/oauth2
// (whose own limit is a fixed 1 MiB), and an oversize body surfaces as an
// error that errors.Is can find, which oauth2 would otherwise flatten into
// a string.
type boundedTransport struct {
	base      http.RoundTripper
	maxBytes  int64
	userAgent string
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > t.maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, t.maxBytes)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
