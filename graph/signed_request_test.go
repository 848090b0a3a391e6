package graph_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// testAppSecret signs the requests the parser tests verify.
const testAppSecret = "test-app-secret-value"

// signedRequestNow is the fixed clock of the parser tests.
var signedRequestNow = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func TestParseSignedRequestValid(t *testing.T) {
	const bigID = "27640875392278831" // above 2^53, odd: float64 would round it
	cases := []struct {
		name string
		sr   string
	}{
		{"string user_id", graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(bigID, signedRequestNow.Add(-time.Minute)))},
		{"number user_id", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1767603540,"user_id":27640875392278831}`)},
		{"lower-case algorithm", graphtest.SignRequest(testAppSecret, `{"algorithm":"hmac-sha256","issued_at":"1767603540","user_id":"27640875392278831"}`)},
		{"data deletion payload with expires", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","expires":1767610000,"issued_at":1767603540,"user_id":"27640875392278831"}`)},
		{"padded signature and payload", graphtest.Padded(graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(bigID, signedRequestNow)))},
		{"surrounding space", " " + graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(bigID, signedRequestNow)) + "\n"},
		{"slightly in the future", graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(bigID, signedRequestNow.Add(2*time.Minute)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sr, err := graph.ParseSignedRequest(tc.sr, testAppSecret, signedRequestNow, time.Hour)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if sr.UserID != bigID {
				t.Fatalf("user_id = %q, want %q", sr.UserID, bigID)
			}
		})
	}
}

func TestParseSignedRequestRefusals(t *testing.T) {
	now := signedRequestNow
	good := graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("17841400000000000", now))
	sig, payload, _ := strings.Cut(good, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","issued_at":1767603540,"user_id":"1"}`))

	cases := []struct {
		name, sr, want string
	}{
		{"empty", "", "required"},
		{"garbage", "not a signed request", "two base64url parts"},
		{"no dot", sig + payload, "two base64url parts"},
		{"three parts", good + ".x", "two base64url parts"},
		{"signature not base64", "!!!." + payload, "signature"},
		{"short signature", base64.RawURLEncoding.EncodeToString([]byte("short")) + "." + payload, "signature"},
		{"wrong secret", graphtest.SignRequest("another-secret", graphtest.MetaPayload("1", now)), "does not match"},
		{"tampered payload", sig + "." + otherPayload, "does not match"},
		{"payload not base64", graphtest.SignText(testAppSecret, "@@@@"), "base64url"},
		{"payload not JSON", graphtest.SignRequest(testAppSecret, "user_id=1"), "JSON"},
		{"payload JSON array", graphtest.SignRequest(testAppSecret, "[1,2]"), "JSON"},
		{"wrong algorithm", graphtest.SignRequest(testAppSecret, map[string]any{"algorithm": "HMAC-SHA1", "issued_at": now.Unix(), "user_id": "1"}), "algorithm"},
		{"no algorithm", graphtest.SignRequest(testAppSecret, map[string]any{"issued_at": now.Unix(), "user_id": "1"}), "algorithm"},
		{"stale", graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("1", now.Add(-2*time.Hour))), "too old"},
		{"far future", graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("1", now.Add(time.Hour))), "future"},
		{"no issued_at", graphtest.SignRequest(testAppSecret, map[string]any{"algorithm": "HMAC-SHA256", "user_id": "1"}), "issued_at"},
		{"fractional issued_at", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1767603540.5,"user_id":"1"}`), "issued_at"},
		{"huge issued_at", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":99999999999999999999999,"user_id":"1"}`), "issued_at"},
		{"no user_id", graphtest.SignRequest(testAppSecret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": now.Unix()}), "user_id"},
		{"float user_id", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1767603540,"user_id":2.7640875392278832e16}`), "user_id"},
		{"negative user_id", graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1767603540,"user_id":-5}`), "user_id"},
		{"non-numeric user_id", graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("../accounts", now)), "user_id"},
		{"too long", strings.Repeat("a", graph.MaxSignedRequestLength+1), "too long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := graph.ParseSignedRequest(tc.sr, testAppSecret, now, time.Hour)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			var sre *graph.SignedRequestError
			if !errors.As(err, &sre) {
				t.Fatalf("error %v is not a graph.SignedRequestError", err)
			}
			assertNoEcho(t, err, tc.sr)
		})
	}

	if _, err := graph.ParseSignedRequest(good, "", now, time.Hour); err == nil {
		t.Fatal("accepted without an app secret")
	}
}

// assertNoEcho fails unless a refusal is exactly one of the fixed reasons:
// then it cannot repeat the signed_request or any part of it. (A substring
// check would be fooled by inputs that are themselves pieces of a reason.)
func assertNoEcho(t *testing.T, err error, sr string) {
	t.Helper()
	var sre *graph.SignedRequestError
	if !errors.As(err, &sre) {
		if strings.Contains(err.Error(), sr) {
			t.Fatalf("error %q echoes the signed_request", err)
		}
		return
	}
	if !slices.Contains(graph.SignedRequestReasons, sre.Reason) || err.Error() != "signed_request: "+string(sre.Reason) {
		t.Fatalf("refusal %q is not one of the fixed reasons", err)
	}
}

// FuzzParseSignedRequest checks that no input panics the parser, that
// whatever it accepts really is signed with the secret, fresh and names a
// decimal user id, and that its errors never echo the input.
func FuzzParseSignedRequest(f *testing.F) {
	now := signedRequestNow
	f.Add(graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("27640875392278831", now)))
	f.Add(graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1767603540,"user_id":27640875392278831}`))
	f.Add(graphtest.Padded(graphtest.SignRequest(testAppSecret, graphtest.MetaPayload("1", now))))
	f.Add(graphtest.SignRequest("wrong", graphtest.MetaPayload("1", now)))
	f.Add(graphtest.SignRequest(testAppSecret, `{"algorithm":"none","issued_at":1767603540,"user_id":"1"}`))
	f.Add(graphtest.SignRequest(testAppSecret, `{"algorithm":"HMAC-SHA256","issued_at":1e99,"user_id":{"a":1}}`))
	f.Add(graphtest.SignRequest(testAppSecret, `null`))
	f.Add("a.b")
	f.Add(".")
	f.Add("====.====")
	f.Fuzz(func(t *testing.T, sr string) {
		got, err := graph.ParseSignedRequest(sr, testAppSecret, now, time.Hour)
		if err != nil {
			if got != nil {
				t.Fatal("both a result and an error")
			}
			assertNoEcho(t, err, sr)
			return
		}
		sig, payloadText, _ := strings.Cut(strings.TrimSpace(sr), ".")
		rawSig, derr := graph.DecodeBase64URL(sig)
		if derr != nil || !graph.SignatureMatches(rawSig, payloadText, testAppSecret) {
			t.Fatal("accepted a request whose signature does not verify")
		}
		if !graph.UserIDRegex.MatchString(got.UserID) {
			t.Fatalf("accepted user_id %q", got.UserID)
		}
		if now.Sub(got.IssuedAt) > time.Hour || got.IssuedAt.Sub(now) > graph.SignedRequestFutureSkew {
			t.Fatalf("accepted issued_at %v", got.IssuedAt)
		}
	})
}
