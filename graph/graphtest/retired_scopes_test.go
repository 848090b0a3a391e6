package graphtest

import (
	"net/http"
	"net/url"
	"testing"
)

// TestDialogsRefuseRetiredScopes: Meta retired the business_* scope names
// on 2025-01-27 (Meta's Business Login for Instagram page). The Instagram dialog refuses
// each in api.instagram.com's flat error shape, naming it, and issues no
// code; Facebook's dialog never knew them and refuses them in the Graph
// shape.
func TestDialogsRefuseRetiredScopes(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	ep := s.Endpoints()
	for _, old := range []string{"business_basic", "business_content_publish", "business_manage_messages",
		"business_manage_comments", "business_manage_insights"} {
		q := url.Values{"client_id": {s.AppID()}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"scope": {"instagram_business_basic," + old}, "state": {"st"}}
		flatErr(t, do(t, http.MethodGet, ep.AuthBaseURL+"/oauth/authorize?"+q.Encode(), nil), "Invalid Scopes: "+old)
		graphErr(t, do(t, http.MethodGet, ep.FacebookAuthBaseURL+"/"+ep.Version+"/dialog/oauth?"+q.Encode(), nil), 100)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.state.codes); n != 0 {
		t.Fatalf("%d codes issued for refused dialogs", n)
	}
}
