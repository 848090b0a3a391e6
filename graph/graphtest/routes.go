package graphtest

import "net/http"

// routes serves each Meta host under a prefix named after it. Methods are
// checked in the handlers, not in the patterns, so that a wrong method gets
// Meta's JSON error rather than the mux's plain-text 405.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	endpoint := func(name string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { s.serve(name, w, r, h) }
	}

	// Instagram Login. The dialog also answers on api.instagram.com, as
	// Meta's reference page still shows it there.
	mux.HandleFunc("/www.instagram.com/oauth/authorize", endpoint(EndpointAuthorize, s.authorize))
	mux.HandleFunc("/api.instagram.com/oauth/authorize", endpoint(EndpointAuthorize, s.authorize))
	mux.HandleFunc("/api.instagram.com/oauth/access_token", endpoint(EndpointExchangeCode, s.exchangeCode))
	// Token endpoints on graph.instagram.com work with and without a version.
	for _, prefix := range []string{"/graph.instagram.com", "/graph.instagram.com/{version}"} {
		mux.HandleFunc(prefix+"/access_token", endpoint(EndpointIGExchangeToken, s.igExchangeToken))
		mux.HandleFunc(prefix+"/refresh_access_token", endpoint(EndpointRefresh, s.refresh))
		mux.HandleFunc(prefix+"/me", endpoint(EndpointMe, s.me))
	}

	// Facebook Login.
	mux.HandleFunc("/www.facebook.com/{version}/dialog/oauth", endpoint(EndpointFacebookAuthorize, s.facebookAuthorize))
	for _, prefix := range []string{"/graph.facebook.com", "/graph.facebook.com/{version}"} {
		// One path, three grants: facebookAccessToken counts each by name.
		mux.HandleFunc(prefix+"/oauth/access_token", s.facebookAccessToken)
		mux.HandleFunc(prefix+"/me/accounts", endpoint(EndpointPages, s.pages))
		mux.HandleFunc(prefix+"/debug_token", endpoint(EndpointDebugToken, s.debugToken))
	}

	// Threads: the dialog on threads.net, everything else on
	// graph.threads.net, where paths are versioned v1.0 (the token
	// endpoints answer without a version too).
	mux.HandleFunc("/threads.net/oauth/authorize", endpoint(EndpointThreadsAuthorize, s.threadsAuthorize))
	for _, prefix := range []string{"/graph.threads.net", "/graph.threads.net/{version}"} {
		mux.HandleFunc(prefix+"/oauth/access_token", endpoint(EndpointThreadsExchangeCode, s.threadsExchangeCode))
		mux.HandleFunc(prefix+"/access_token", endpoint(EndpointThreadsExchangeToken, s.thExchangeToken))
		mux.HandleFunc(prefix+"/refresh_access_token", endpoint(EndpointThreadsRefresh, s.threadsRefresh))
		mux.HandleFunc(prefix+"/me", endpoint(EndpointThreadsMe, s.threadsMe))
	}

	// The content endpoints an application calls through proxy/.
	s.contentRoutes(mux, endpoint)

	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &apiError{status: http.StatusNotFound, code: 803, typ: "OAuthException",
			message: "Unknown path components: " + r.URL.Path})
	})
	return mux
}
