package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// tokenAPI is one product's token endpoints on Instagram Login's model
// (Instagram Login, and Threads on hosts and grant names of its own): a
// code exchanged for a one-hour token, that exchanged for a 60-day one,
// refreshed once at least 24 hours old, and /me as the cheapest check. The
// four calls are written once (below); a product is where each goes and
// what its grants and metrics labels are called.
type tokenAPI struct {
	// prefix starts the calls' names in errors ("" for Instagram,
	// "threads " for Threads).
	prefix string
	// codeHost, graphHost are the base URLs of the code exchange and of
	// the rest; meVersion the version /me is called at.
	codeHost, graphHost, meVersion func(Endpoints) string
	longLivedGrant, refreshGrant   string
	meFields                       string
	// meIDIsUserID: the product has one id per user, answered as id, so
	// User.UserID takes it when /me sends no user_id.
	meIDIsUserID bool

	exchangeEP, longLivedEP, refreshEP, meEP Endpoint
}

var instagramAPI = tokenAPI{
	codeHost:       func(e Endpoints) string { return e.APIBaseURL },
	graphHost:      func(e Endpoints) string { return e.GraphBaseURL },
	meVersion:      func(e Endpoints) string { return e.Version },
	longLivedGrant: "ig_exchange_token",
	refreshGrant:   "ig_refresh_token",
	meFields:       igMeFields,
	exchangeEP:     EndpointExchangeCode,
	longLivedEP:    EndpointExchangeLongLived,
	refreshEP:      EndpointRefresh,
	meEP:           EndpointMe,
}

var threadsAPI = tokenAPI{
	prefix:         "threads ",
	codeHost:       func(e Endpoints) string { return e.ThreadsGraphBaseURL },
	graphHost:      func(e Endpoints) string { return e.ThreadsGraphBaseURL },
	meVersion:      func(Endpoints) string { return ThreadsVersion },
	longLivedGrant: "th_exchange_token",
	refreshGrant:   "th_refresh_token",
	meFields:       threadsMeFields,
	meIDIsUserID:   true,
	exchangeEP:     EndpointThreadsExchangeCode,
	longLivedEP:    EndpointThreadsLongLived,
	refreshEP:      EndpointThreadsRefresh,
	meEP:           EndpointThreadsMe,
}

// exchangeCode trades an authorization code (cleaned with CleanCode) for a
// short-lived token at the product's oauth/access_token.
func (c *Client) exchangeCode(ctx context.Context, api tokenAPI, code, redirectURI string) (*ShortLivedToken, error) {
	clean := CleanCode(code)
	if clean == "" {
		return nil, errors.New("instagram: " + api.prefix + "exchange code: empty authorization code")
	}
	return fetch(ctx, c, request{
		name:     api.prefix + "exchange code",
		endpoint: api.exchangeEP,
		method:   http.MethodPost,
		url:      joinURL(api.codeHost(c.ep), "oauth/access_token"),
		form: url.Values{
			"client_id":     {c.appID},
			"client_secret": {c.appSecret},
			"grant_type":    {"authorization_code"},
			"redirect_uri":  {redirectURI},
			"code":          {clean},
		},
		secrets: []string{c.appSecret, code, clean},
	}, decodeShortLived)
}

// exchangeForLongLived trades a short-lived token for a 60-day one. It
// needs the app secret, so it runs server side only.
func (c *Client) exchangeForLongLived(ctx context.Context, api tokenAPI, shortLived string) (*LongLivedToken, error) {
	if shortLived == "" {
		return nil, errors.New("instagram: " + api.prefix + "exchange for long-lived token: empty token")
	}
	return fetch(ctx, c, request{
		name:     api.prefix + "exchange for long-lived token",
		endpoint: api.longLivedEP,
		method:   http.MethodGet,
		url:      joinURL(api.graphHost(c.ep), "access_token"),
		query: url.Values{
			"grant_type":    {api.longLivedGrant},
			"client_secret": {c.appSecret},
			"access_token":  {shortLived},
		},
		secrets: []string{c.appSecret, shortLived},
	}, decodeLongLived)
}

// refresh extends a long-lived token, with appsecret_proof (Refresh says
// why).
func (c *Client) refresh(ctx context.Context, api tokenAPI, longLived string) (*LongLivedToken, error) {
	if longLived == "" {
		return nil, errors.New("instagram: " + api.prefix + "refresh: empty token")
	}
	q := url.Values{
		"grant_type":   {api.refreshGrant},
		"access_token": {longLived},
	}
	setIf(q, "appsecret_proof", c.appSecretProof(longLived))
	return fetch(ctx, c, request{
		name:     api.prefix + "refresh",
		endpoint: api.refreshEP,
		method:   http.MethodGet,
		url:      joinURL(api.graphHost(c.ep), "refresh_access_token"),
		query:    q,
		secrets:  []string{c.appSecret, longLived},
	}, decodeLongLived)
}

// me reads the token's account from the product's /me.
func (c *Client) me(ctx context.Context, api tokenAPI, token string) (*User, error) {
	if token == "" {
		return nil, errors.New("instagram: " + api.prefix + "me: empty token")
	}
	q := url.Values{"fields": {api.meFields}, "access_token": {token}}
	setIf(q, "appsecret_proof", c.appSecretProof(token))
	u, err := fetch(ctx, c, request{
		name:     api.prefix + "me",
		endpoint: api.meEP,
		method:   http.MethodGet,
		url:      joinURL(api.graphHost(c.ep), api.meVersion(c.ep), "me"),
		query:    q,
		secrets:  []string{c.appSecret, token},
	}, decodeUser)
	if err != nil {
		return nil, err
	}
	if api.meIDIsUserID && u.UserID == "" {
		u.UserID = u.ID
	}
	return u, nil
}
