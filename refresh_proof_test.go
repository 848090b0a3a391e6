package instagram

import (
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestInstagramRefreshUnderRequireAppSecret (issue 13): with "Require App
// Secret" on, Meta refuses Graph calls without appsecret_proof. The engine
// sends it on the refresh too, so an Instagram Login account registered,
// refreshed and checked by the periodic work stays valid under that setting.
func TestInstagramRefreshUnderRequireAppSecret(t *testing.T) {
	e := newTestEnv(t)
	e.meta = graphtest.New(graphtest.Options{AppID: testAppID, AppSecret: testAppSecret, Now: e.clock.Now, RequireAppSecretProof: true})
	t.Cleanup(e.meta.Close)
	e.configure(nil)
	names := e.registerDue("proof", 1)
	old := e.account(names[0]).AccessToken

	e.tick()
	a := e.account(names[0])
	e.secrets = append(e.secrets, a.AccessToken)
	if a.Status != statusValid || a.AccessToken == old || a.LastError != "" {
		t.Fatalf("refresh under Require App Secret: %s, refreshed %v, %q", a.Status, a.AccessToken != old, a.LastError)
	}
	e.untilCheck(names[0])
	e.tick()
	if a := e.account(names[0]); a.Status != statusValid || !a.LastCheckedAt.Equal(e.clock.Now()) || e.meta.Calls(graphtest.EndpointMe) < 2 {
		t.Fatalf("daily check under Require App Secret: %s %q", a.Status, a.LastError)
	}
	if n := e.meta.Calls(graphtest.EndpointRefresh); n != 1 {
		t.Fatalf("%d refresh calls", n)
	}
}
