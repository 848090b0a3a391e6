package graphtest

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsentPage: with consent pages on, a dialog first answers a page
// naming the user and what is asked, whose form carries the dialog's own
// parameters; Allow (fake_consent=allow) redirects with a code, Cancel
// (fake_deny=1) with Meta's denial. Off again, the dialog approves at once.
func TestConsentPage(t *testing.T) {
	s, _ := newTestServer(t, Options{ConsentPage: true})
	ep := s.Endpoints()
	conf, _ := s.AddConfiguration(Configuration{TokenKind: ConfigSystemUserToken})
	dialogs := map[string]struct {
		url  string
		want []string
	}{
		"instagram": {ep.AuthBaseURL + "/oauth/authorize?" + url.Values{"client_id": {s.AppID()}, "redirect_uri": {redirectURI},
			"response_type": {"code"}, "scope": {"instagram_business_basic"}, "state": {"st<>"}, "fake_user": {"ana"},
			"enable_fb_login": {"1"}}.Encode(), []string{"Log in with Instagram", "continue as ana", "instagram_business_basic", "log in with Facebook"}},
		"facebook configuration": {ep.FacebookAuthBaseURL + "/" + ep.Version + "/dialog/oauth?" + url.Values{"client_id": {s.AppID()},
			"redirect_uri": {redirectURI}, "response_type": {"code"}, "override_default_response_type": {"true"},
			"config_id": {conf.ID}, "state": {"st<>"}, "fake_user": {"ana"}}.Encode(), []string{"Log in with Facebook", "Configuration " + conf.ID}},
	}
	hidden := regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	for name, d := range dialogs {
		t.Run(name, func(t *testing.T) {
			r := do(t, http.MethodGet, d.url, nil)
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("consent page: %d %s", r.status, r.header.Get("Content-Type"))
			}
			for _, w := range append(d.want, `id="allow"`, `id="deny"`) {
				if !strings.Contains(r.body, w) {
					t.Errorf("the page does not say %q:\n%s", w, r.body)
				}
			}
			if strings.Contains(r.body, "st<>") {
				t.Error("the page does not escape the query")
			}
			// Submit the form as a browser does.
			form := url.Values{}
			for _, m := range hidden.FindAllStringSubmatch(r.body, -1) {
				form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			base, _, _ := strings.Cut(d.url, "?")
			allow := url.Values{}
			for k, v := range form {
				allow[k] = v
			}
			allow.Set("fake_consent", "allow")
			loc, _ := url.Parse(do(t, http.MethodGet, base+"?"+allow.Encode(), nil).header.Get("Location"))
			if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st<>" {
				t.Fatalf("Allow redirected to %v", loc)
			}
			form.Set("fake_deny", "1")
			loc, _ = url.Parse(do(t, http.MethodGet, base+"?"+form.Encode(), nil).header.Get("Location"))
			if loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Has("code") {
				t.Fatalf("Cancel redirected to %v", loc)
			}
		})
	}
	s.SetConsentPage(false)
	if r := do(t, http.MethodGet, dialogs["instagram"].url, nil); r.status != http.StatusFound {
		t.Fatalf("consent page off: %d", r.status)
	}
}
