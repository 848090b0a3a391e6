package graphtest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Media is one published post of an Instagram professional account, as the
// content endpoints show it.
type Media struct {
	ID        string    `json:"id"`
	Caption   string    `json:"caption,omitempty"`
	MediaType string    `json:"media_type"`
	MediaURL  string    `json:"media_url"`
	Timestamp time.Time `json:"timestamp"`
}

// container is a media container made by POST /<ig user>/media and used
// once by /media_publish.
type container struct {
	owner     string // the Instagram account's UserID
	mediaType string
	mediaURL  string
	caption   string
	published bool
}

// content is the fake's Instagram content: each account's media, newest
// first, and the containers not yet published. It has its own lock so that
// the token store's stays short.
type content struct {
	mu         sync.Mutex
	media      map[string][]*Media // by the account's UserID
	containers map[string]*container
	next       int64
}

func (c *content) newIDLocked() string {
	c.next++
	return strconv.FormatInt(17900000000000001+2*c.next, 10)
}

// AddMedia publishes a post for the account userID (a UserID, app-scoped id
// or username) and returns its id; a test seeds the account's media with it.
func (s *Server) AddMedia(userID, caption string) string {
	s.mu.Lock()
	u := s.resolveUserLocked(userID)
	now := s.nowLocked()
	s.mu.Unlock()
	if u == nil {
		return ""
	}
	c := &s.content
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &Media{ID: c.newIDLocked(), Caption: caption, MediaType: "IMAGE", MediaURL: "https://example.invalid/m.jpg", Timestamp: now}
	if c.media == nil {
		c.media = map[string][]*Media{}
	}
	c.media[u.UserID] = append([]*Media{m}, c.media[u.UserID]...)
	return m.ID
}

// MediaOf lists an account's posts, newest first.
func (s *Server) MediaOf(userID string) []Media {
	s.mu.Lock()
	u := s.resolveUserLocked(userID)
	s.mu.Unlock()
	if u == nil {
		return nil
	}
	s.content.mu.Lock()
	defer s.content.mu.Unlock()
	var out []Media
	for _, m := range s.content.media[u.UserID] {
		out = append(out, *m)
	}
	return out
}

// LastContentRequest is LastRequest for a content endpoint
// (EndpointMedia, EndpointMediaPublish, EndpointInsights).
func (s *Server) LastContentRequest(endpoint string) url.Values { return s.LastRequest(endpoint) }

// contentCaller checks the token of a content request and returns the
// Instagram account it reaches (its owner's) and its scopes. On
// graph.instagram.com that takes an Instagram Login token; on
// graph.facebook.com a Facebook user, Page or system-user token.
func (s *Server) contentCaller(w http.ResponseWriter, r *http.Request, facebook bool) (string, []string, bool) {
	if badVersion(w, r) {
		return "", nil, false
	}
	tok := tokenParam(r)
	kinds := []TokenKind{KindShortLived, KindLongLived}
	if facebook {
		kinds = []TokenKind{KindFacebookUser, KindFacebookLongUser, KindPage, KindSystemUser}
	}
	s.mu.Lock()
	rec, e := s.checkTokenLocked(tok, kinds...)
	if e == nil {
		e = s.checkProof(r, tok)
	}
	var owner string
	var scopes []string
	if e == nil {
		owner, scopes = rec.UserID, slices.Clone(rec.Scopes)
	}
	s.mu.Unlock()
	if e != nil {
		writeAPIError(w, e)
		return "", nil, false
	}
	return owner, scopes, true
}

// igUser resolves the {ig_user} path element: "me" or the caller's own
// account id. Another account's id is Meta's "does not exist" error.
func igUser(w http.ResponseWriter, r *http.Request, owner string) bool {
	if id := r.PathValue("ig_user"); id != "me" && id != owner {
		writeAPIError(w, &apiError{status: http.StatusBadRequest, code: 100, subcode: 33, typ: "GraphMethodException",
			message: "Unsupported request. Object with ID '" + id + "' does not exist, cannot be loaded due to missing permissions, or does not support this operation."})
		return false
	}
	return true
}

// contentRoutes adds the content endpoints the proxy is used for, on the
// Graph host of each login.
func (s *Server) contentRoutes(mux *http.ServeMux, endpoint func(string, http.HandlerFunc) http.HandlerFunc) {
	for _, host := range []struct {
		prefix   string
		facebook bool
	}{{"/graph.instagram.com/{version}", false}, {"/graph.facebook.com/{version}", true}} {
		fb := host.facebook
		handle := func(name string, h func(http.ResponseWriter, *http.Request, bool)) http.HandlerFunc {
			return endpoint(name, func(w http.ResponseWriter, r *http.Request) { h(w, r, fb) })
		}
		mux.HandleFunc(host.prefix+"/{ig_user}/media", handle(EndpointMedia, s.userMedia))
		mux.HandleFunc(host.prefix+"/{ig_user}/media_publish", handle(EndpointMediaPublish, s.mediaPublish))
		mux.HandleFunc(host.prefix+"/{ig_user}/insights", handle(EndpointInsights, s.insights))
	}
}

// userMedia is GET /<ig user>/media (the account's posts, paged with the
// token in paging.next, as Meta does) and POST /<ig user>/media (a
// container to publish).
func (s *Server) userMedia(w http.ResponseWriter, r *http.Request, facebook bool) {
	owner, scopes, ok := s.contentCaller(w, r, facebook)
	if !ok || !igUser(w, r, owner) {
		return
	}
	if r.Method == http.MethodPost {
		s.createContainer(w, r, owner, scopes, facebook)
		return
	}
	limit, err := strconv.Atoi(r.FormValue("limit"))
	if err != nil || limit <= 0 || limit > 100 {
		limit = 25
	}
	start := 0
	if a := r.FormValue("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			writeAPIError(w, oauthError(100, 0, "Invalid after cursor"))
			return
		}
		start = n
	}
	fields := splitScopes(r.FormValue("fields"))
	if len(fields) == 0 {
		fields = []string{"id"}
	}
	s.content.mu.Lock()
	all := s.content.media[owner]
	end := min(start+limit, len(all))
	start = min(start, end)
	data := make([]map[string]any, 0, end-start)
	for _, m := range all[start:end] {
		out := map[string]any{}
		for _, f := range fields {
			v, ok := mediaField(m, f)
			if !ok {
				s.content.mu.Unlock()
				writeAPIError(w, oauthError(100, 0, "Tried accessing nonexisting field ("+f+") on node type (IGMedia)"))
				return
			}
			out[f] = v
		}
		data = append(data, out)
	}
	s.content.mu.Unlock()
	cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
	paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end)}}
	if end < len(all) {
		// Meta's next link repeats the request's query, token and proof
		// included: whoever is handed it holds the token.
		next := url.Values{}
		for k, v := range r.Form {
			next[k] = v
		}
		next.Set("after", cursor(end))
		paging["next"] = "http://" + r.Host + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": paging})
}

func mediaField(m *Media, f string) (any, bool) {
	switch f {
	case "id":
		return m.ID, true
	case "caption":
		return m.Caption, true
	case "media_type":
		return m.MediaType, true
	case "media_url":
		return m.MediaURL, true
	case "permalink":
		return "https://www.instagram.com/p/" + m.ID + "/", true
	case "timestamp":
		return m.Timestamp.UTC().Format("2006-01-02T15:04:05-0700"), true
	}
	return nil, false
}

// publishScope is the permission publishing needs on each login.
func publishScope(facebook bool) string {
	if facebook {
		return "instagram_content_publish"
	}
	return "instagram_business_content_publish"
}

func errNoPermission(scope string) *apiError {
	return &apiError{status: http.StatusForbidden, code: 10, typ: "OAuthException",
		message: "Application does not have permission for this action (" + scope + ")"}
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request, owner string, scopes []string, facebook bool) {
	if sc := publishScope(facebook); !slices.Contains(scopes, sc) {
		writeAPIError(w, errNoPermission(sc))
		return
	}
	c := &container{owner: owner, caption: r.FormValue("caption"), mediaType: strings.ToUpper(r.FormValue("media_type"))}
	switch {
	case r.FormValue("image_url") != "" && (c.mediaType == "" || c.mediaType == "IMAGE"):
		c.mediaType, c.mediaURL = "IMAGE", r.FormValue("image_url")
	case r.FormValue("video_url") != "" && (c.mediaType == "REELS" || c.mediaType == "VIDEO"):
		c.mediaURL = r.FormValue("video_url")
	default:
		writeAPIError(w, oauthError(100, 0, "The parameter image_url is required"))
		return
	}
	s.content.mu.Lock()
	id := s.content.newIDLocked()
	if s.content.containers == nil {
		s.content.containers = map[string]*container{}
	}
	s.content.containers[id] = c
	s.content.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

// mediaPublish is POST /<ig user>/media_publish?creation_id=<container>.
func (s *Server) mediaPublish(w http.ResponseWriter, r *http.Request, facebook bool) {
	owner, scopes, ok := s.contentCaller(w, r, facebook)
	if !ok || !igUser(w, r, owner) {
		return
	}
	if r.Method != http.MethodPost {
		writeAPIError(w, errUnsupportedMethod(r))
		return
	}
	if sc := publishScope(facebook); !slices.Contains(scopes, sc) {
		writeAPIError(w, errNoPermission(sc))
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	s.mu.Unlock()
	s.content.mu.Lock()
	defer s.content.mu.Unlock()
	c, ok := s.content.containers[r.FormValue("creation_id")]
	if !ok || c.owner != owner || c.published {
		writeAPIError(w, &apiError{status: http.StatusBadRequest, code: 9007, subcode: 2207027, typ: "OAuthException",
			message: "Media ID is not available"})
		return
	}
	c.published = true
	m := &Media{ID: s.content.newIDLocked(), Caption: c.caption, MediaType: c.mediaType, MediaURL: c.mediaURL, Timestamp: now}
	if s.content.media == nil {
		s.content.media = map[string][]*Media{}
	}
	s.content.media[owner] = append([]*Media{m}, s.content.media[owner]...)
	writeJSON(w, http.StatusOK, map[string]string{"id": m.ID})
}

// insights is GET /<ig user>/insights?metric=a,b&period=day: zero values,
// one per metric; metric is required, as at Meta.
func (s *Server) insights(w http.ResponseWriter, r *http.Request, facebook bool) {
	owner, _, ok := s.contentCaller(w, r, facebook)
	if !ok || !igUser(w, r, owner) {
		return
	}
	metrics := splitScopes(r.FormValue("metric"))
	if len(metrics) == 0 {
		writeAPIError(w, oauthError(100, 0, "(#100) The parameter metric is required"))
		return
	}
	period := r.FormValue("period")
	if period == "" {
		period = "day"
	}
	data := make([]map[string]any, 0, len(metrics))
	for _, m := range metrics {
		data = append(data, map[string]any{"name": m, "period": period, "values": []map[string]any{{"value": 0}},
			"id": owner + "/insights/" + m + "/" + period})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
