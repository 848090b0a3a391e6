package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestOversizedStringsFromMetaAreMalformed: every string a successful
// answer carries that the engine keeps (tokens, ids, names, scopes, token
// types, a page cursor) is bounded, within the 1 MiB bound on the whole
// answer: one past its bound is a malformed answer naming the field,
// never quoting it, instead of a record (and a callback page, a log line)
// of up to a megabyte. The same answers at realistic sizes pass.
func TestOversizedStringsFromMetaAreMalformed(t *testing.T) {
	long := func(n int) string { return strings.Repeat("7", n) }
	token := func(s string) string { return "IGAA" + s }
	type call func(context.Context, *graph.Client) error
	refresh := func(ctx context.Context, c *graph.Client) error { _, err := c.Refresh(ctx, "IGAAold"); return err }
	me := func(ctx context.Context, c *graph.Client) error { _, err := c.Me(ctx, "IGAAtok"); return err }
	exchange := func(ctx context.Context, c *graph.Client) error {
		_, err := c.ExchangeCode(ctx, "AQBcode", redirectURI)
		return err
	}
	fbCode := func(ctx context.Context, c *graph.Client) error {
		_, err := c.FacebookExchangeCode(ctx, "AQBcode", redirectURI)
		return err
	}
	pages := func(ctx context.Context, c *graph.Client) error { _, err := c.Pages(ctx, "EAAtok"); return err }
	debug := func(ctx context.Context, c *graph.Client) error { _, err := c.DebugToken(ctx, "EAAtok"); return err }
	scopes := func(n, each int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("%q", strings.Repeat("s", each))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	tests := []struct {
		name, endpoint, field string
		call                  call
		body                  func(v string) string // v: the value of field, as JSON text
		ok, tooLong           string
	}{
		{"refresh access_token", graphtest.EndpointRefresh, "access_token", refresh,
			func(v string) string { return `{"access_token":` + v + `,"token_type":"bearer","expires_in":5184000}` },
			fmt.Sprintf("%q", token(long(4000))), fmt.Sprintf("%q", token(long(5000)))},
		{"refresh token_type", graphtest.EndpointRefresh, "token_type", refresh,
			func(v string) string { return `{"access_token":"IGAAx","token_type":` + v + `,"expires_in":5184000}` },
			`"bearer"`, fmt.Sprintf("%q", long(100))},
		{"code exchange user_id", graphtest.EndpointExchangeCode, "user_id", exchange,
			func(v string) string { return `{"access_token":"IGAAx","user_id":` + v + `,"permissions":["a"]}` },
			long(20), long(100)},
		{"code exchange permissions", graphtest.EndpointExchangeCode, "permissions", exchange,
			func(v string) string { return `{"access_token":"IGAAx","user_id":1,"permissions":` + v + `}` },
			scopes(50, 40), scopes(1000, 10)},
		{"code exchange a permission", graphtest.EndpointExchangeCode, "permissions", exchange,
			func(v string) string { return `{"access_token":"IGAAx","user_id":1,"permissions":` + v + `}` },
			scopes(1, 100), scopes(1, 200)},
		{"me username", graphtest.EndpointMe, "username", me,
			func(v string) string { return `{"id":"1","user_id":"2","username":` + v + `}` },
			fmt.Sprintf("%q", strings.Repeat("u", 30)), fmt.Sprintf("%q", strings.Repeat("u", 2000))},
		{"me name", graphtest.EndpointMe, "name", me,
			func(v string) string { return `{"id":"1","user_id":"2","name":` + v + `}` },
			fmt.Sprintf("%q", strings.Repeat("n", 200)), fmt.Sprintf("%q", strings.Repeat("n", 2000))},
		{"me id", graphtest.EndpointMe, "id", me,
			func(v string) string { return `{"id":` + v + `,"user_id":"2"}` },
			long(30), long(100)},
		{"facebook code access_token (oauth2)", graphtest.EndpointFacebookExchangeCode, "access_token", fbCode,
			func(v string) string { return `{"access_token":` + v + `,"token_type":"bearer","expires_in":5184000}` },
			fmt.Sprintf("%q", "EAA"+long(4000)), fmt.Sprintf("%q", "EAA"+long(5000))},
		{"pages name", graphtest.EndpointPages, "name", pages,
			func(v string) string { return `{"data":[{"id":"1","name":` + v + `,"access_token":"EAAp"}]}` },
			fmt.Sprintf("%q", strings.Repeat("p", 200)), fmt.Sprintf("%q", strings.Repeat("p", 2000))},
		{"pages access_token", graphtest.EndpointPages, "access_token", pages,
			func(v string) string { return `{"data":[{"id":"1","name":"P","access_token":` + v + `}]}` },
			fmt.Sprintf("%q", "EAA"+long(4000)), fmt.Sprintf("%q", "EAA"+long(5000))},
		{"pages cursor", graphtest.EndpointPages, "after", pages,
			func(v string) string {
				return `{"data":[{"id":"1","name":"P","access_token":"EAAp"}],"paging":{"cursors":{"after":` + v + `},"next":"https://x/next"}}`
			},
			`""`, fmt.Sprintf("%q", long(5000))},
		{"debug_token scopes", graphtest.EndpointDebugToken, "scopes", debug,
			func(v string) string { return `{"data":{"is_valid":true,"user_id":"1","scopes":` + v + `}}` },
			scopes(50, 40), scopes(1000, 10)},
		{"debug_token user_id", graphtest.EndpointDebugToken, "user_id", debug,
			func(v string) string { return `{"data":{"is_valid":true,"user_id":` + v + `}}` },
			long(20), long(100)},
		{"debug_token app_id", graphtest.EndpointDebugToken, "app_id", debug,
			func(v string) string { return `{"data":{"is_valid":true,"user_id":"1","app_id":` + v + `}}` },
			long(20), long(100)},
		{"debug_token type", graphtest.EndpointDebugToken, "type", debug,
			func(v string) string { return `{"data":{"is_valid":true,"user_id":"1","type":` + v + `}}` },
			`"SYSTEM_USER"`, fmt.Sprintf("%q", strings.Repeat("T", 100))},
		{"me user_id", graphtest.EndpointMe, "user_id", me,
			func(v string) string { return `{"id":"1","user_id":` + v + `}` },
			long(30), long(100)},
		{"me account_type", graphtest.EndpointMe, "account_type", me,
			func(v string) string { return `{"id":"1","user_id":"2","account_type":` + v + `}` },
			`"BUSINESS"`, fmt.Sprintf("%q", strings.Repeat("B", 100))},
		{"pages id", graphtest.EndpointPages, "id", pages,
			func(v string) string { return `{"data":[{"id":` + v + `,"name":"P","access_token":"EAAp"}]}` },
			long(20), long(100)},
		{"pages instagram_business_account", graphtest.EndpointPages, "instagram_business_account", pages,
			func(v string) string {
				return `{"data":[{"id":"1","name":"P","access_token":"EAAp","instagram_business_account":{"id":` + v + `}}]}`
			},
			long(20), long(100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				value string
				ok    bool
			}{{tt.ok, true}, {tt.tooLong, false}} {
				fx := newFixture(t, graphtest.Options{})
				fx.fake.Fail(tt.endpoint, 1, graphtest.Failure{Status: http.StatusOK, Body: tt.body(c.value)})
				err := tt.call(context.Background(), fx.client)
				switch {
				case c.ok && err != nil && errors.Is(err, graph.ErrMalformedResponse) && strings.Contains(err.Error(), tt.field):
					t.Fatalf("%d bytes refused: %v", len(c.value), err)
				case !c.ok && (!errors.Is(err, graph.ErrMalformedResponse) || !strings.Contains(err.Error(), tt.field)):
					t.Fatalf("%d bytes: %v, want a malformed answer naming %s", len(c.value), err, tt.field)
				case !c.ok && strings.Contains(err.Error(), strings.Trim(c.value, `"[]`)[:20]):
					t.Fatalf("the error quotes the value: %v", err)
				}
			}
		})
	}
}
