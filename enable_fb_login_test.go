package instagram

import (
	"strings"
	"testing"
)

// TestAuthURLEnableFBLogin: auth-url's enable_fb_login goes to Instagram's
// dialog as 1 or 0, and not at all when not given; the fake's dialog takes
// the URL. Under login=facebook it means nothing and draws a warning, as
// force_reauth does.
func TestAuthURLEnableFBLogin(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	for _, tc := range []struct {
		given any
		want  string
	}{{true, "1"}, {false, "0"}, {nil, ""}} {
		data := map[string]any{"account": "shop", "force_reauth": true}
		if tc.given != nil {
			data["enable_fb_login"] = tc.given
		}
		u, _ := e.authURL(data)
		q := u.Query()
		if q.Get("enable_fb_login") != tc.want || q.Has("enable_fb_login") != (tc.want != "") || q.Get("force_reauth") != "true" {
			t.Errorf("enable_fb_login=%v: dialog URL %s", tc.given, u)
		}
		if back := e.authorizeAtFake(u, nil); back.Get("code") == "" {
			t.Errorf("the fake's dialog did not take %s", u)
		}
	}

	fb := newFacebookEnv(t)
	resp := fb.mustOK(fb.write("auth-url", map[string]any{"account": "shop", "enable_fb_login": true}))
	fb.secrets = append(fb.secrets, resp.Data["state"].(string))
	if strings.Contains(resp.Data["url"].(string), "enable_fb_login") ||
		len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "enable_fb_login") {
		t.Errorf("under login=facebook: url carries it or no warning: %v", resp.Warnings)
	}
}
