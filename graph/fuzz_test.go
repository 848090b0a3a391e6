package graph

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fuzz targets check that no response body makes a decoder panic, that
// a decoder either succeeds with what it promises or fails with
// ErrMalformedResponse, and that ids survive exactly.

func FuzzDecodeShortLived(f *testing.F) {
	f.Add(`{"data":[{"access_token":"IGAAx","user_id":"17841400000000000","permissions":"a,b"}]}`)
	f.Add(`{"access_token":"IGAAx","user_id":27640875392278831,"permissions":["a"]}`)
	f.Add(`{"data":{"access_token":"x","user_id":-1}}`)
	f.Add(`{"data":[]}`)
	f.Add(`{"access_token":"x","user_id":1e400}`)
	f.Fuzz(func(t *testing.T, body string) {
		tok, err := decodeShortLived([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		if tok.AccessToken == "" {
			t.Fatal("success without access_token")
		}
		if tok.UserID != strings.TrimSpace(tok.UserID) {
			t.Fatalf("user_id %q is not trimmed", tok.UserID)
		}
	})
}

func FuzzDecodeLongLived(f *testing.F) {
	f.Add(`{"access_token":"IGAAx","token_type":"bearer","expires_in":5183944}`)
	f.Add(`{"access_token":"IGAAx","expires_in":"5183944"}`)
	f.Add(`{"access_token":"IGAAx","expires_in":5.183944e6}`)
	f.Add(`{"access_token":"IGAAx","expires_in":-9223372036854775808}`)
	f.Add(`{"access_token":"IGAAx","expires_in":9300000000}`)
	f.Fuzz(func(t *testing.T, body string) {
		tok, err := decodeLongLived([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.ExpiresIn < 0 || tok.ExpiresIn > int64(MaxExpiresIn/time.Second) {
			t.Fatalf("bad success %+v", tok)
		}
	})
}

func FuzzDecodeUser(f *testing.F) {
	f.Add(`{"id":"9100000000000001","user_id":27640875392278831,"username":"shop","account_type":"BUSINESS"}`)
	f.Add(`{"user_id":"1"}`)
	f.Add(`{"id":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		u, err := decodeUser([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		if u.ID == "" && u.UserID == "" {
			t.Fatal("success without an id")
		}
	})
}

func FuzzDecodePages(f *testing.F) {
	f.Add(`{"data":[{"id":"1","name":"P","access_token":"EAA","instagram_business_account":{"id":27640875392278831}}],"paging":{"cursors":{"after":"MQ"},"next":"x"}}`)
	f.Add(`{"data":[],"paging":{"cursors":{"after":"MQ"}}}`)
	f.Add(`{"data":[{"id":1,"instagram_business_account":null}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		pages, _, err := decodePages([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		for _, p := range pages {
			if p.ID == "" {
				t.Fatal("page without id")
			}
		}
	})
}

func FuzzDecodeTokenInfo(f *testing.F) {
	f.Add(`{"data":{"app_id":"1","type":"USER","is_valid":true,"expires_at":1705184000,"issued_at":1700000000,"scopes":["a"],"user_id":"2"}}`)
	f.Add(`{"data":{"error":{"code":190,"subcode":463,"message":"m"},"is_valid":false,"scopes":[]}}`)
	f.Add(`{"data":{"expires_at":0,"data_access_expires_at":"-5"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		info, err := decodeTokenInfo([]byte(body), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		if info.Error != nil {
			_ = info.Error.Error()
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, `{"error":{"message":"m","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"t"}}`, `{"call_count":1}`, `{"1":[{"estimated_time_to_regain_access":5}]}`, "secret")
	f.Add(400, `{"error_type":"OAuthException","code":400,"error_message":"secret was used"}`, "", "", "secret")
	f.Add(500, `<html>`, "x", "[]", "")
	f.Add(200, `{"error":"invalid_grant","error_description":"secret"}`, "", "", "secret")
	f.Fuzz(func(t *testing.T, status int, body, appUsage, bucUsage, secret string) {
		h := http.Header{}
		h.Set("X-App-Usage", appUsage)
		h.Set("X-Business-Use-Case-Usage", bucUsage)
		e := parseError(status, h, []byte(body), []string{secret})
		if e == nil {
			if status < 200 || status > 299 {
				t.Fatalf("status %d gave no error", status)
			}
			return
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		}
		_ = Classify(e)
		// Redaction: no secret survives in what Meta sent. (A secret with
		// a bracket could straddle the "[redacted]" that replaced another
		// occurrence, which is not a leak; real secrets have none.)
		if secret != "" && !strings.ContainsAny(secret, "[]") {
			for _, v := range []string{e.Message, e.Type, e.FBTraceID} {
				if strings.Contains(v, secret) {
					t.Fatalf("secret %q leaked into %q", secret, v)
				}
			}
		}
	})
}
