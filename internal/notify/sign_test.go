package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"id":"1"}`)
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign(secret, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name   string
		secret []byte
		body   []byte
		header string
		ok     bool
	}{
		{"good", secret, body, want, true},
		{"upper-case hex", secret, body, "sha256=" + strings.ToUpper(want[7:]), true},
		{"wrong secret", []byte("other"), body, want, false},
		{"body changed", secret, []byte(`{"id":"2"}`), want, false},
		{"no prefix", secret, body, want[7:], false},
		{"sha1 prefix", secret, body, "sha1=" + want[7:], false},
		{"not hex", secret, body, "sha256=zz", false},
		{"truncated", secret, body, want[:len(want)-2], false},
		{"empty", secret, body, "", false},
	} {
		if got := Verify(tc.secret, tc.body, tc.header); got != tc.ok {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// What a receiver gets verifies with the shared secret, and carries the
// documented content type.
func TestDeliveredRequestIsSignedJSON(t *testing.T) {
	var contentType string
	rcv := newReceiver(t, always(http.StatusOK))
	inner := rcv.Config.Handler
	rcv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType = r.Header.Get("Content-Type")
		inner.ServeHTTP(w, r)
	})
	clock, store := newFakeClock(), newMemStore()
	o := testOutbox(clock, Options{})
	defer o.Close()
	enqueue(t, o, store, NeedsReauth, "shop")
	runOnce(o, store, Target{URL: rcv.URL, Secret: testSecret})
	d := rcv.deliveries()
	if len(d) != 1 || !Verify([]byte(testSecret), d[0].body, d[0].signature) || Verify([]byte("wrong"), d[0].body, d[0].signature) {
		t.Fatalf("deliveries %+v: want one, verifying with the secret only", d)
	}
	if contentType != "application/json" {
		t.Errorf("Content-Type %q", contentType)
	}
}
