package graphtest

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
)

// The fake's login dialogs approve at once by default, which is what
// programs driving them want. With a consent page on (Options.ConsentPage,
// SetConsentPage, fakemeta -consent-page), a dialog answers as Meta's does
// to a person: a page saying which app asks for what, with a button to
// allow and one to cancel, so that a browser (a person at `make dev`, or
// the e2e browser test) goes through the consent as an account owner does.
// Both buttons submit the dialog's own parameters again: Allow with
// fake_consent=allow, Cancel with fake_deny=1, which the dialog answers
// with its redirect as before.

// consentPage is the dialog's page. Every value comes from the query and
// is escaped by html/template.
var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Product}} (fake Meta)</title>
<style>
body{font-family:system-ui,sans-serif;background:#f0f2f5;margin:0;color:#1c1e21}
form{max-width:26rem;margin:4rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.2)}
h1{font-size:1.2rem}.grant{color:#65676b}button{font-size:1rem;padding:.5rem 1.2rem;border-radius:6px;border:0;margin-right:.5rem;cursor:pointer}
#allow{background:#1877f2;color:#fff}#deny{background:#e4e6eb}.note{font-size:.8rem;color:#65676b}
</style>
</head>
<body>
<form method="get" action="">
<h1>{{.Product}}: continue as {{.Username}}?</h1>
<p>App {{.AppID}} asks for access to your account.</p>
{{if .ConfigID}}<p class="grant">Configuration {{.ConfigID}}: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}{{$s}}{{end}}</p>
{{else}}<p class="grant">Permissions: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}{{$s}}{{end}}</p>
{{end}}{{if .FacebookLogin}}<p class="grant">You may log in with Facebook instead.</p>
{{end}}{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><button id="allow" type="submit" name="fake_consent" value="allow">Allow</button><button id="deny" type="submit" name="fake_deny" value="1">Cancel</button></p>
<p class="note">graphtest: a fake of Meta's login dialog for tests and make dev.</p>
</form>
</body>
</html>
`))

type hiddenField struct{ Name, Value string }

// SetConsentPage turns the dialogs' consent page on or off.
func (s *Server) SetConsentPage(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consent = on
}

// wantsConsentPage reports whether a dialog request must be answered with
// the consent page rather than a redirect: consent pages are on, and the
// request is not the page's own Allow or Cancel.
func (s *Server) wantsConsentPage(q url.Values) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consent && q.Get("fake_consent") != "allow" && q.Get("fake_deny") != "1"
}

// writeConsentPage answers a dialog with the consent page for grant g.
func (s *Server) writeConsentPage(w http.ResponseWriter, r *http.Request, g dialogGrant) {
	q := r.URL.Query()
	s.mu.Lock()
	u := s.state.defaultUser()
	if name := q.Get("fake_user"); name != "" {
		u = s.resolveUserLocked(name)
	}
	username := u.Username
	s.mu.Unlock()

	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var hidden []hiddenField
	for _, k := range keys {
		for _, v := range q[k] {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	title := map[product]string{
		productInstagram: "Log in with Instagram",
		productFacebook:  "Log in with Facebook",
		productThreads:   "Log in with Threads",
	}[g.product]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = consentPage.Execute(w, map[string]any{
		"Product":       title,
		"Username":      username,
		"AppID":         s.appID,
		"ConfigID":      g.configID,
		"Scopes":        g.scopes,
		"FacebookLogin": g.product == productInstagram && (q.Get("enable_fb_login") == "1" || q.Get("enable_fb_login") == "true"),
		"Hidden":        hidden,
	})
}
