// Command receiver is the webhook receiver example of docs/notifications.md:
// it verifies each event's signature and prints the event. The
// documentation quotes this file, and its test checks both that the quote
// is this file and that the code accepts what the engine signs.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
)

// verified reports whether header is "sha256=" and the hex HMAC-SHA256 of
// body under secret, compared in constant time.
func verified(secret, body []byte, header string) bool {
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

func handle(secret []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || !verified(secret, body, r.Header.Get("X-Hub-Signature-256")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Events come at least once: drop an "id" already handled.
		fmt.Printf("%s\n", body)
		w.WriteHeader(http.StatusNoContent) // any 2xx ends the retries
	}
}

func main() {
	http.Handle("/", handle([]byte(os.Getenv("NOTIFY_SECRET"))))
	log.Fatal(http.ListenAndServe("127.0.0.1:9000", nil))
}
