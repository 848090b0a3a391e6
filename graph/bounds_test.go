package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestRetryAfterIsCappedAtADay (issue 13, finding 9): one answer
// asking to wait for years (or for more seconds than a time.Duration holds)
// must not stop calls for years: a Retry-After over a day counts as a day.
func TestRetryAfterIsCappedAtADay(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"3600":                 time.Hour,
		"86400":                24 * time.Hour,
		"86401":                24 * time.Hour,
		"315360000":            24 * time.Hour, // ten years
		"99999999999":          24 * time.Hour, // past time.Duration's range in nanoseconds
		"9223372036854775807":  24 * time.Hour,
		"99999999999999999999": 0, // not an int64: ignored, as any unreadable Retry-After
	} {
		t.Run(header, func(t *testing.T) {
			fx := newFixture(t, graphtest.Options{})
			f := graphtest.Throttled(4, 0)
			f.Header = http.Header{"Retry-After": {header}}
			fx.fake.Fail(graphtest.EndpointRefresh, 1, f)
			_, err := fx.client.Refresh(context.Background(), "IGAAsomelonglivedtoken")
			if got := asError(t, err).RetryAfter; got != want {
				t.Fatalf("Retry-After %s: RetryAfter = %v, want %v", header, got, want)
			}
		})
	}
}

// TestExpiresInOutOfRangeIsRefused (issue 13, finding 9): every
// decoder that reads expires_in (the Instagram token endpoints, and the
// Facebook ones read through golang.org/x/oauth2, as JSON and as a form,
// and Threads')
// refuses a negative lifetime or one over ten years as a malformed answer
// naming the field, never the token; ten years exactly is accepted.
func TestExpiresInOutOfRangeIsRefused(t *testing.T) {
	const token = "IGAAthe-token-in-the-answer"
	type call func(context.Context, *graph.Client) (*graph.LongLivedToken, error)
	calls := map[string]struct {
		endpoint string
		call     call
	}{
		"refresh": {graphtest.EndpointRefresh, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.Refresh(ctx, "IGAAold")
		}},
		"ig_exchange_token": {graphtest.EndpointIGExchangeToken, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.ExchangeForLongLived(ctx, "IGAAshort")
		}},
		"fb_exchange_token": {graphtest.EndpointFacebookExchangeToken, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.FacebookExchangeLongLived(ctx, "EAAshort")
		}},
		"fb_exchange_code (oauth2)": {graphtest.EndpointFacebookExchangeCode, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.FacebookExchangeCode(ctx, "AQBcode", redirectURI)
		}},
		"app_token (oauth2)": {graphtest.EndpointAppToken, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.AppToken(ctx)
		}},
		"th_refresh_token": {graphtest.EndpointThreadsRefresh, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.ThreadsRefresh(ctx, "THAAold")
		}},
		"th_exchange_token": {graphtest.EndpointThreadsExchangeToken, func(ctx context.Context, c *graph.Client) (*graph.LongLivedToken, error) {
			return c.ThreadsExchangeForLongLived(ctx, "THAAshort")
		}},
	}
	const tenYears = int64(10 * 365 * 24 * 60 * 60)
	values := map[string]bool{ // expires_in as sent: accepted?
		"5183944":                   true,
		fmt.Sprint(tenYears):        true,
		fmt.Sprint(tenYears + 1):    false,
		"9300000000":                false, // overflows time.Duration in nanoseconds
		"9.3e9":                     false,
		"2147483648":                false, // past int32, where oauth2 clamps
		"-1":                        false,
		"-9300000000":               false, // wraps to a positive int32 in oauth2
		`"9300000000"`:              false,
		"92233720368547758070000.0": false,
	}
	for name, c := range calls {
		for value, ok := range values {
			for _, form := range []bool{false, true} {
				if form && (!strings.Contains(name, "oauth2") || strings.HasPrefix(value, `"`)) {
					continue // only oauth2 reads form answers
				}
				t.Run(fmt.Sprintf("%s/%s/form=%v", name, value, form), func(t *testing.T) {
					fx := newFixture(t, graphtest.Options{})
					f := graphtest.Failure{Status: http.StatusOK,
						Body: `{"access_token":"` + token + `","token_type":"bearer","expires_in":` + value + `}`}
					if form {
						f.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
						f.Body = "access_token=" + token + "&token_type=bearer&expires_in=" + value
					}
					fx.fake.Fail(c.endpoint, 1, f)
					tok, err := c.call(context.Background(), fx.client)
					if ok {
						if err != nil {
							t.Fatalf("refused: %v", err)
						}
						if tok.ExpiresIn <= 0 || tok.ExpiresIn > tenYears {
							t.Fatalf("expires_in %d", tok.ExpiresIn)
						}
						return
					}
					if err == nil {
						t.Fatalf("accepted expires_in %s as %d seconds", value, tok.ExpiresIn)
					}
					// oauth2 refuses a JSON expires_in that is not an
					// integer literal itself, before the engine sees it,
					// with its own message (which quotes only the number).
					byOAuth2 := strings.Contains(name, "oauth2") && !form && strings.ContainsAny(value, ".e")
					if !errors.Is(err, graph.ErrMalformedResponse) || (!byOAuth2 && !strings.Contains(err.Error(), "expires_in")) {
						t.Fatalf("error %q: want a malformed answer naming expires_in", err)
					}
					if strings.Contains(err.Error(), token) {
						t.Fatal("the error quotes the token")
					}
				})
			}
		}
	}
}
