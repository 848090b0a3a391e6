package instagram

import (
	"net/http"
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestProxiedCallsFeedTheAppUsageFigures: the usage headers Meta sends on a
// proxied call's answer feed the same rate-limit figures as a refresh's
// (vault_instagram_app_usage_ratio), on a success as on a throttle.
func TestProxiedCallsFeedTheAppUsageFigures(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	e.meta.Fail(graphtest.EndpointMe, 1, graphtest.Failure{
		Status: http.StatusOK,
		Body:   `{"id":"17841400000000001","username":"shop"}`,
		Header: http.Header{
			"X-App-Usage":               {`{"call_count":28,"total_time":25,"total_cputime":12}`},
			"X-Business-Use-Case-Usage": {`{"17841400000000001":[{"type":"instagram","call_count":40,"total_cputime":5,"total_time":7,"estimated_time_to_regain_access":0}]}`},
		},
	})
	resp := e.mustOK(e.read("proxy/shop/me"))
	if resp.Data["username"] != "shop" {
		t.Fatalf("answer = %v", resp.Data)
	}
	e.metricsHold(
		`vault_instagram_app_usage_ratio{header="x-app-usage",kind="call_count"} 0.28`,
		`vault_instagram_app_usage_ratio{header="x-app-usage",kind="total_cputime"} 0.12`,
		`vault_instagram_app_usage_ratio{header="x-business-use-case-usage",kind="call_count"} 0.4`,
	)
}
