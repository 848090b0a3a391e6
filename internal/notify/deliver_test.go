package notify

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A failed attempt's error names the status or the network failure, never
// the URL (a receiver's own token may sit in its query).
func TestAttemptErrorNamesNoURL(t *testing.T) {
	d := NewDeliverer(nil, time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	err := d.Deliver(context.Background(), Target{URL: srv.URL + "/hook?key=receiver-credential", Secret: "s"}, []byte("{}"))
	var ae *AttemptError
	if !errors.As(err, &ae) || ae.Status != http.StatusTeapot {
		t.Fatalf("error %v, want an AttemptError with status 418", err)
	}
	srv.Close()
	err = d.Deliver(context.Background(), Target{URL: srv.URL + "/hook?key=receiver-credential", Secret: "s"}, []byte("{}"))
	if err == nil || strings.Contains(err.Error(), "receiver-credential") || strings.Contains(err.Error(), "/hook") {
		t.Errorf("error %q: want one without the URL", err)
	}
	err = d.Deliver(context.Background(), Target{URL: "::not a url?key=receiver-credential", Secret: "s"}, []byte("{}"))
	if err == nil || strings.Contains(err.Error(), "receiver-credential") {
		t.Errorf("error %q: want one without the URL", err)
	}
}

// The Deliverer leaves the client it was given alone: the engine's other
// client still follows redirects.
func TestNewDelivererDoesNotChangeTheGivenClient(t *testing.T) {
	c := &http.Client{}
	NewDeliverer(c, 0)
	if c.CheckRedirect != nil {
		t.Error("the given client was changed")
	}
}

// A receiver answering with an endless body costs a bounded read, and the
// attempt still counts by its status.
func TestHugeResponseBodyIsReadBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	d := NewDeliverer(nil, 5*time.Second)
	if err := d.Deliver(context.Background(), Target{URL: srv.URL, Secret: "s"}, []byte("{}")); err != nil {
		t.Errorf("Deliver: %v", err)
	}
}

// Nothing of an event's body, its consent link, the secret or the URL
// reaches the log, whatever happens to it: failures, an expiry drop, a
// backlog drop.
func TestLogsCarryNoSecretLinkBodyOrURL(t *testing.T) {
	var buf bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace})
	clock, store := newFakeClock(), newMemStore()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("receiver-body-text"))
	}))
	defer srv.Close()
	o := testOutbox(clock, Options{Logger: logger, MaxPending: 1})
	defer o.Close()
	mk := func(account string) {
		_, err := o.Enqueue(context.Background(), store, Event{Type: NeedsReauth, Account: account, Status: "needs_reauth",
			Reason: "reason-text-visible-to-receiver", ReauthURL: "https://vault.example/v1/instagram/callback?state=consent-link-state"})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("first")
	mk("second") // drops "first" for the backlog
	target := Target{URL: srv.URL + "/path-of-url?token=url-credential", Secret: "the-notify-secret"}
	for range 30 {
		runOnce(o, store, target)
		clock.Advance(time.Hour)
	}
	if f := o.Figures(); f.DroppedBacklog != 1 || f.DroppedExpired != 1 || f.FailedAttempts == 0 {
		t.Fatalf("figures %+v: the test wants a backlog drop, failures and an expiry", f)
	}
	out := buf.String()
	if !strings.Contains(out, "dropped an undelivered notification") {
		t.Fatalf("the drops were not logged:\n%s", out)
	}
	for _, secret := range []string{"the-notify-secret", "consent-link-state", "reason-text-visible-to-receiver", "receiver-body-text", "url-credential", "path-of-url"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}

// LoggerFunc is asked for the logger when there is something to log, so
// the plugin can hand over a logger that exists only after its setup.
func TestLoggerFuncIsCalledWhenLogging(t *testing.T) {
	var buf bytes.Buffer
	var logger hclog.Logger // not yet there when the outbox is made
	o := testOutbox(newFakeClock(), Options{MaxPending: 1, LoggerFunc: func() hclog.Logger { return logger }})
	defer o.Close()
	logger = hclog.New(&hclog.LoggerOptions{Output: &buf})
	store := newMemStore()
	enqueue(t, o, store, NeedsReauth, "a")
	enqueue(t, o, store, NeedsReauth, "b")
	if !strings.Contains(buf.String(), "dropped an undelivered notification") {
		t.Errorf("log %q, want the backlog drop", buf.String())
	}
}
