package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestMetaErrorTextIsCutToOneKiB: Meta's error answers are read up to the
// 1 MiB response bound, and each text they carry is cut once its secrets
// are redacted: the message to graph.MaxMessageBytes (1 KiB), the type and
// the trace id (body or X-Fb-Trace-Id header) shorter still, on a rune
// boundary, so a 900 KB message (of two-byte runes, with the token at its
// end) becomes a short, valid UTF-8 error that never shows a piece of the
// token. This holds in every shape: the Graph error object, the flat
// shape of api.instagram.com, the OAuth 2.0 shape read through
// golang.org/x/oauth2, and debug_token's error object.
func TestMetaErrorTextIsCutToOneKiB(t *testing.T) {
	const token = "IGAAthe-token-quoted-at-the-end"
	huge := strings.Repeat("é", 450_000)      // 900 KB
	hugeASCII := strings.Repeat("x", 100_000) // beside the message, within the 1 MiB bound
	graphErr := graphtest.GraphError(190, 0, hugeASCII, huge+token)
	graphErr.Header = http.Header{"X-Fb-Trace-Id": {hugeASCII}}
	tests := map[string]struct {
		endpoint string
		fail     graphtest.Failure
		call     func(*graph.Client) (*graph.Error, error)
	}{
		"graph object (refresh)": {graphtest.EndpointRefresh, graphErr, func(c *graph.Client) (*graph.Error, error) {
			_, err := c.Refresh(context.Background(), token)
			return nil, err
		}},
		"a token across the cut": {graphtest.EndpointMe, graphtest.Failure{Status: 400,
			Body:   `{"error":{"code":190,"type":"OAuthException","message":"` + strings.Repeat("x", 1000) + token + `"}}`,
			Header: http.Header{"X-Fb-Trace-Id": {hugeASCII}}}, func(c *graph.Client) (*graph.Error, error) {
			_, err := c.Me(context.Background(), token)
			return nil, err
		}},
		"flat (exchange code)": {graphtest.EndpointExchangeCode, graphtest.FlatError(huge + token), func(c *graph.Client) (*graph.Error, error) {
			_, err := c.ExchangeCode(context.Background(), "AQBcode", redirectURI)
			return nil, err
		}},
		"oauth2 (facebook code)": {graphtest.EndpointFacebookExchangeCode, graphtest.Failure{Status: 400,
			Body: `{"error":"` + hugeASCII + `","error_description":"` + huge + `"}`}, func(c *graph.Client) (*graph.Error, error) {
			_, err := c.FacebookExchangeCode(context.Background(), "AQBcode", redirectURI)
			return nil, err
		}},
		"debug_token's error object": {graphtest.EndpointDebugToken, graphtest.Failure{Status: 200,
			Body: `{"data":{"is_valid":false,"error":{"code":190,"message":"` + huge + token + `"}}}`}, func(c *graph.Client) (*graph.Error, error) {
			info, err := c.DebugToken(context.Background(), token)
			if err != nil {
				return nil, err
			}
			return info.Error, nil
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t, graphtest.Options{})
			fx.fake.Fail(tt.endpoint, 1, tt.fail)
			e, err := tt.call(fx.client)
			if e == nil {
				e = asError(t, err)
			}
			for field, text := range map[string]string{"message": e.Message, "type": e.Type, "fbtrace_id": e.FBTraceID, "error": e.Error()} {
				if !utf8.ValidString(text) {
					t.Errorf("%s is not valid UTF-8 after the cut", field)
				}
				if strings.Contains(text, token[:8]) {
					t.Errorf("%s shows a piece of the token", field)
				}
			}
			if len(e.Message) > graph.MaxMessageBytes+len("…") || len(e.Type) > 128+len("…") || len(e.FBTraceID) > 128+len("…") {
				t.Fatalf("kept %d bytes of message, %d of type, %d of trace id", len(e.Message), len(e.Type), len(e.FBTraceID))
			}
			if len(e.Error()) > 2*graph.MaxMessageBytes {
				t.Fatalf("the error line is %d bytes", len(e.Error()))
			}
		})
	}
}
