//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestShippedAnalyticsPolicyReadsInsightsAndNothingElse: the shipped
// instagram-proxy-analytics policy, on a real Vault, reads the account's
// insights (by me and by its Instagram user id) and its media list through
// the engine, and nothing else: no publish, no token, no other Graph path
// of the account, no other account. A post's insights ("+" in the policy,
// one path segment) are allowed by Vault; whatever Graph answers, Vault
// does not refuse them.
func TestShippedAnalyticsPolicyReadsInsightsAndNothingElse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, token := e.registerWith("demo", "instagram_business_basic", "instagram_business_manage_insights")
	e.registerWith("other", "instagram_business_basic", "instagram_business_manage_insights")
	media := e.fake.AddMedia(u.UserID, "first post")
	policy := strings.ReplaceAll(policyFile(t, "instagram-proxy-analytics"), "<ig-user-id>", u.UserID)
	app := e.clientWithPolicy("analytics", policy)

	for _, path := range []string{"proxy/demo/me/insights", "proxy/demo/" + u.UserID + "/insights", "proxy/demo/me/media"} {
		status, _, body := e.rawProxy(app, http.MethodGet, mountPath+"/"+path, "metric=reach&period=day")
		if status != http.StatusOK || strings.Contains(body, token) {
			t.Errorf("GET %s: %d %.300s; want 200 without the token", path, status, body)
		}
	}
	if status, _, body := e.rawProxy(app, http.MethodGet, mountPath+"/proxy/demo/"+media+"/insights", "metric=reach"); status == http.StatusForbidden {
		t.Errorf("a post's insights: %d %.300s; the policy grants them", status, body)
	}
	for _, path := range []string{"token/demo", "proxy/demo/me", "proxy/demo/me/media_publish", "proxy/demo/" + media, "proxy/other/me/insights", "accounts/demo", "app-token"} {
		if status, _, body := e.rawProxy(app, http.MethodGet, mountPath+"/"+path, ""); status != http.StatusForbidden {
			t.Errorf("GET %s: %d %.300s; want 403", path, status, body)
		}
	}
	if status, _, _ := e.rawProxy(app, http.MethodPost, mountPath+"/proxy/demo/"+u.UserID+"/media", "image_url=https://example.com/a.jpg"); status != http.StatusForbidden {
		t.Errorf("the analytics policy could create a media container: %d", status)
	}
}
