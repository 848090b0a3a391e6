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

// TestDebugTokenTimesBeyondTenYearsOrNegativeAreMalformed: every time
// debug_token states (expires_at, data_access_expires_at, issued_at) is
// bounded as expires_in is: a negative one, or one more than ten years
// (graph.MaxExpiresIn) after the client's clock, is a malformed answer that
// names the field and quotes neither the value nor the token. Such a time
// once became a 500 ("year outside of range") when stored, and an int64
// overflow in the schedule's nanoseconds. 0 (Meta's "never") and a time
// within the bound are taken as they are.
func TestDebugTokenTimesBeyondTenYearsOrNegativeAreMalformed(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const token = "EAAthe-inspected-token"
	limit := now.Add(graph.MaxExpiresIn).Unix()
	values := map[string]bool{ // as sent: accepted?
		"0":                        true,
		fmt.Sprint(now.Unix()):     true,
		fmt.Sprint(limit):          true,
		fmt.Sprint(limit + 1):      false,
		"1000000000000000":         false, // year 31,690,708: past time.Time's JSON and UnixNano
		"9223372036854775807":      false,
		"-1":                       false,
		`"-1700000000"`:            false,
		fmt.Sprintf("%q", "1e300"): false,
	}
	for _, field := range []string{"expires_at", "data_access_expires_at", "issued_at"} {
		for sent, ok := range values {
			t.Run(field+"="+sent, func(t *testing.T) {
				fx := newFixture(t, graphtest.Options{})
				c := graph.New(graph.Config{AppID: fx.fake.AppID(), AppSecret: fx.fake.AppSecret(), Endpoints: fx.fake.Endpoints(),
					HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: func() time.Time { return now }})
				body := fmt.Sprintf(`{"data":{"app_id":"1","type":"USER","is_valid":true,"user_id":"2","scopes":["a"],%q:%s}}`, field, sent)
				fx.fake.Fail(graphtest.EndpointDebugToken, 1, graphtest.Failure{Status: http.StatusOK, Body: body})
				info, err := c.DebugToken(context.Background(), token)
				if ok {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("accepted: %+v", info)
				}
				if !errors.Is(err, graph.ErrMalformedResponse) || !strings.Contains(err.Error(), field) {
					t.Fatalf("error %q is not a malformed answer naming %s", err, field)
				}
				if strings.Contains(err.Error(), strings.Trim(sent, `"-`)) || strings.Contains(err.Error(), token) {
					t.Fatalf("error quotes the value or the token: %q", err)
				}
			})
		}
	}
}
