package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	graphErr := func(status, code, subcode int) error {
		return &Error{HTTPStatus: status, Code: code, Subcode: subcode, Type: "OAuthException"}
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"code 1", graphErr(500, 1, 0), ClassTransient},
		{"code 2", graphErr(500, 2, 0), ClassTransient},
		{"is_transient", &Error{HTTPStatus: 400, Code: 368, IsTransient: true}, ClassTransient},
		{"HTTP 500 without code", graphErr(500, 0, 0), ClassTransient},
		{"HTTP 503 with code 100", graphErr(503, 100, 0), ClassTransient},
		{"code 4 app throttled", graphErr(400, 4, 0), ClassThrottled},
		{"code 17 user throttled", graphErr(400, 17, 0), ClassThrottled},
		{"code 32 page throttled", graphErr(400, 32, 0), ClassThrottled},
		{"code 613", graphErr(400, 613, 0), ClassThrottled},
		{"code 80002", graphErr(400, 80002, 0), ClassThrottled},
		{"code 4 even with is_transient", &Error{Code: 4, IsTransient: true}, ClassThrottled},
		{"HTTP 429 without code", graphErr(429, 0, 0), ClassThrottled},
		{"code 190 expired", graphErr(400, 190, 463), ClassReauth},
		{"code 190 password changed", graphErr(400, 190, 460), ClassReauth},
		{"code 190 on a 500", graphErr(500, 190, 0), ClassReauth},
		{"code 10 permission", graphErr(400, 10, 0), ClassReauth},
		{"code 200 permission", graphErr(400, 200, 0), ClassReauth},
		{"code 299 permission", graphErr(400, 299, 0), ClassReauth},
		{"code 300", graphErr(400, 300, 0), ClassPermanent},
		{"code 100", graphErr(400, 100, 0), ClassPermanent},
		{"code 101 bad app", graphErr(400, 101, 0), ClassPermanent},
		{"flat 400", &Error{HTTPStatus: 400, Code: 400, Type: "OAuthException", Message: "This authorization code has been used"}, ClassPermanent},
		{"HTTP 404 bare", graphErr(404, 0, 0), ClassPermanent},
		{"wrapped *Error", fmt.Errorf("refresh shop: %w", graphErr(400, 190, 463)), ClassReauth},
		{"context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), ClassTransient},
		{"context canceled", context.Canceled, ClassTransient},
		{"url.Error timeout", &url.Error{Op: "Get", URL: "u", Err: timeoutErr{}}, ClassTransient},
		{"connection refused", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, ClassTransient},
		{"net.Error", &net.DNSError{Err: "no such host", Name: "x", IsTemporary: true}, ClassTransient},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ClassTransient},
		{"oversize", fmt.Errorf("x: %w", ErrResponseTooLarge), ClassTransient},
		{"malformed", fmt.Errorf("x: %w", ErrMalformedResponse), ClassTransient},
		{"plain error", errors.New("empty token"), ClassPermanent},
		{"nil", nil, ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassString(t *testing.T) {
	want := map[Class]string{ClassPermanent: "permanent", ClassTransient: "transient", ClassThrottled: "throttled", ClassReauth: "reauth", Class(42): "unknown"}
	for c, s := range want {
		if c.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), s)
		}
	}
}
