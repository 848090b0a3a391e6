package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const (
	// DefaultAttemptTimeout bounds one delivery attempt, from connecting to
	// the end of the answer's headers and its bounded body.
	DefaultAttemptTimeout = 10 * time.Second
	// maxResponseBody is how much of an answer is read (then dropped, so
	// the connection can be reused); the rest is not read at all. Nothing
	// of it is ever logged.
	maxResponseBody = 4 << 10
	userAgent       = "vault-plugin-secrets-instagram-notify"
)

// Target is where events go: the notify_url and the notify_secret that signs
// them. The zero Target delivers nothing.
type Target struct {
	URL    string
	Secret string
}

// Enabled reports whether t has somewhere to deliver.
func (t Target) Enabled() bool { return t.URL != "" }

// String never shows the secret, so a Target logged by mistake leaks
// nothing.
func (t Target) String() string { return "notify.Target{URL set: " + fmt.Sprint(t.URL != "") + "}" }

// GoString is String, for %#v.
func (t Target) GoString() string { return t.String() }

// Deliverer POSTs signed events. It follows no redirect: a 3xx is a failed
// attempt, like any answer but a 2xx, so a receiver cannot send the
// engine's requests (and their signatures) elsewhere.
type Deliverer struct {
	client  *http.Client
	timeout time.Duration
}

// NewDeliverer returns a Deliverer over a copy of client (nil: Go's default
// transport) that does not follow redirects, each attempt bounded by
// timeout (<= 0: DefaultAttemptTimeout).
func NewDeliverer(client *http.Client, timeout time.Duration) *Deliverer {
	c := &http.Client{}
	if client != nil {
		copied := *client
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	return &Deliverer{client: c, timeout: timeout}
}

// AttemptError is a failed delivery attempt. Its message names the answer's
// status or the kind of network failure, never the URL (which may carry a
// receiver's own credential) nor anything of the answer's body.
type AttemptError struct {
	// Status is the receiver's HTTP status, 0 when there was no answer.
	Status int
	err    error
}

func (e *AttemptError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("notify: the receiver answered %d", e.Status)
	}
	return "notify: no answer from the receiver: " + e.err.Error()
}

func (e *AttemptError) Unwrap() error { return e.err }

// Deliver makes one attempt to POST body, signed with t.Secret, to t.URL. It
// returns nil for a 2xx answer and an *AttemptError otherwise.
func (d *Deliverer) Deliver(ctx context.Context, t Target, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return &AttemptError{err: errors.New("notify_url is not a valid URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(SignatureHeader, Sign([]byte(t.Secret), body))
	resp, err := d.client.Do(req)
	if err != nil {
		// url.Error's message quotes the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &AttemptError{err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &AttemptError{Status: resp.StatusCode}
	}
	return nil
}
