package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxPagePages bounds how many me/accounts pages Pages follows: with 100
// Pages a request, that is 5000 Pages, beyond any real account, and it stops
// a server that always answers with a next cursor.
const maxPagePages = 50

// facebookOAuth2 is the standard OAuth 2.0 view of Facebook Login. Client
// credentials travel in the form (AuthStyleInParams), as Facebook
// documents, which also spares oauth2's probe of two styles.
func (c *Client) facebookOAuth2(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.appID,
		ClientSecret: c.appSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   joinURL(c.ep.FacebookAuthBaseURL, c.ep.Version, "dialog/oauth"),
			TokenURL:  joinURL(c.ep.FacebookGraphBaseURL, c.ep.Version, "oauth/access_token"),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
	}
}

// oauth2Context makes golang.org/x/oauth2 use the client's bounded HTTP client.
func (c *Client) oauth2Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.hc)
}

// FacebookAuthorizeURL returns the Facebook Login dialog URL
// (www.facebook.com/{version}/dialog/oauth). With a configID (Facebook Login
// for Business) the dialog carries config_id instead of scope: the
// configuration made in the App Dashboard fixes the permissions and the
// kind of token; override_default_response_type=true makes it answer
// response_type=code (which oauth2 sets) rather than the configuration's
// default, so that the engine gets a code to exchange server side.
func (c *Client) FacebookAuthorizeURL(redirectURI string, scopes []string, state, configID string) string {
	if configID != "" {
		return c.facebookOAuth2(redirectURI).AuthCodeURL(state,
			oauth2.SetAuthURLParam("config_id", configID),
			oauth2.SetAuthURLParam("override_default_response_type", "true"))
	}
	return c.facebookOAuth2(redirectURI).AuthCodeURL(state, authURLOptions(scopes, false)...)
}

// FacebookExchangeCode trades a Facebook Login code for a user token (one
// to two hours) through golang.org/x/oauth2: this exchange is standard
// OAuth 2.0.
func (c *Client) FacebookExchangeCode(ctx context.Context, code, redirectURI string) (*LongLivedToken, error) {
	clean := CleanCode(code)
	if clean == "" {
		return nil, errors.New("instagram: facebook exchange code: empty authorization code")
	}
	tok, err := c.facebookOAuth2(redirectURI).Exchange(c.oauth2Context(withEndpoint(ctx, EndpointFacebookExchangeCode)), clean)
	if err != nil {
		return nil, oauth2Error("facebook exchange code", err, []string{c.appSecret, code, clean})
	}
	long, err := fromOAuth2Token(tok)
	if err != nil {
		return nil, fmt.Errorf("instagram: facebook exchange code: %w", err)
	}
	return long, nil
}

// FacebookExchangeLongLived trades a user token for a long-lived one (about
// 60 days) with grant_type=fb_exchange_token. Facebook has no refresh
// grant: an expired token cannot be exchanged.
func (c *Client) FacebookExchangeLongLived(ctx context.Context, userToken string) (*LongLivedToken, error) {
	if userToken == "" {
		return nil, errors.New("instagram: facebook exchange for long-lived token: empty token")
	}
	return fetch(ctx, c, request{
		name:     "facebook exchange for long-lived token",
		endpoint: EndpointFacebookLongLived,
		method:   http.MethodGet,
		url:      joinURL(c.ep.FacebookGraphBaseURL, c.ep.Version, "oauth/access_token"),
		query: url.Values{
			"grant_type":        {"fb_exchange_token"},
			"client_id":         {c.appID},
			"client_secret":     {c.appSecret},
			"fb_exchange_token": {userToken},
		},
		secrets: []string{c.appSecret, userToken},
	}, decodeLongLived)
}

// Pages lists the Facebook Pages the user manages (me/accounts), each with
// its Page token and linked Instagram professional account. It follows the
// "after" cursor rather than Meta's "next" URL, so the user token is only
// ever sent to the configured host.
func (c *Client) Pages(ctx context.Context, userToken string) ([]Page, error) {
	if userToken == "" {
		return nil, errors.New("instagram: pages: empty token")
	}
	var all []Page
	after := ""
	for range maxPagePages {
		q := url.Values{
			"fields":       {"id,name,access_token,instagram_business_account"},
			"limit":        {"100"},
			"access_token": {userToken},
		}
		setIf(q, "appsecret_proof", c.appSecretProof(userToken))
		setIf(q, "after", after)
		type pageBatch struct {
			pages []Page
			after string
		}
		batch, err := fetch(ctx, c, request{
			name:     "pages",
			endpoint: EndpointPages,
			method:   http.MethodGet,
			url:      joinURL(c.ep.FacebookGraphBaseURL, c.ep.Version, "me/accounts"),
			query:    q,
			secrets:  []string{c.appSecret, userToken},
		}, func(b []byte) (pageBatch, error) {
			p, a, err := decodePages(b)
			return pageBatch{p, a}, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, batch.pages...)
		if batch.after == "" || batch.after == after {
			return all, nil
		}
		after = batch.after
	}
	return nil, fmt.Errorf("instagram: pages: %w: more than %d pages of results", ErrMalformedResponse, maxPagePages)
}

// DebugToken inspects inputToken with debug_token, authenticated with the
// app token "{app-id}|{app-secret}" (which Meta accepts in place of one
// from the client-credentials grant, and which costs no call to obtain).
func (c *Client) DebugToken(ctx context.Context, inputToken string) (*TokenInfo, error) {
	if inputToken == "" {
		return nil, errors.New("instagram: debug token: empty token")
	}
	secrets := []string{c.appSecret, inputToken}
	info, err := fetch(ctx, c, request{
		name:     "debug token",
		endpoint: EndpointDebugToken,
		method:   http.MethodGet,
		url:      joinURL(c.ep.FacebookGraphBaseURL, c.ep.Version, "debug_token"),
		query: url.Values{
			"input_token":  {inputToken},
			"access_token": {c.appID + "|" + c.appSecret},
		},
		secrets: secrets,
	}, func(body []byte) (*TokenInfo, error) { return decodeTokenInfo(body, c.now()) })
	if err != nil {
		return nil, err
	}
	if info.Error != nil {
		info.Error.scrub(secrets)
	}
	return info, nil
}

// AppToken obtains an app access token with the OAuth 2.0
// client-credentials grant (graph.facebook.com/oauth/access_token).
func (c *Client) AppToken(ctx context.Context) (*LongLivedToken, error) {
	cfg := clientcredentials.Config{
		ClientID:     c.appID,
		ClientSecret: c.appSecret,
		TokenURL:     joinURL(c.ep.FacebookGraphBaseURL, "oauth/access_token"),
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cfg.Token(c.oauth2Context(withEndpoint(ctx, EndpointAppToken)))
	if err != nil {
		return nil, oauth2Error("app token", err, []string{c.appSecret})
	}
	app, err := fromOAuth2Token(tok)
	if err != nil {
		return nil, fmt.Errorf("instagram: app token: %w", err)
	}
	return app, nil
}

// fromOAuth2Token converts oauth2's token, reading expires_in from the
// answer itself: oauth2 clamps a JSON expires_in to an int32 (and wraps one
// below it), computes Expiry with time.Now and, for a form answer, without
// checking the multiplication, so its figures cannot tell an absurd
// lifetime from a real one.
func fromOAuth2Token(tok *oauth2.Token) (*LongLivedToken, error) {
	expiresIn, err := oauth2ExpiresIn(tok)
	if err != nil {
		return nil, err
	}
	if err := checkBounds("token", bounded{"access_token", tok.AccessToken, MaxTokenLength}, bounded{"token_type", tok.TokenType, maxTypeLength}); err != nil {
		return nil, err
	}
	return &LongLivedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresIn: expiresIn}, nil
}

// oauth2ExpiresIn is the answer's expires_in in seconds (0 when absent),
// refused outside [0, MaxExpiresIn]. Token.Extra gives a JSON answer's
// number as a float64 (exact for any lifetime in range) or its string, and
// a form answer's as an int64, a float64 or the text.
func oauth2ExpiresIn(tok *oauth2.Token) (int64, error) {
	var text string
	switch v := tok.Extra("expires_in").(type) {
	case nil:
		return 0, nil
	case string:
		if text = strings.TrimSpace(v); text == "" {
			return 0, nil
		}
	case int64:
		text = strconv.FormatInt(v, 10)
	case float64:
		text = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return 0, malformed("token: expires_in is neither a number nor a string")
	}
	sec, err := parseWholeNumber(text)
	if err != nil {
		return 0, malformed("token: expires_in: %v", err)
	}
	return sec, checkExpiresIn(sec)
}

// oauth2Error maps golang.org/x/oauth2's errors onto this package's: an
// error answer becomes *Error (oauth2 cannot read Graph's error object, so
// it hands over the raw body, which parseError reads), a transport failure
// keeps its cause, and anything else (an answer oauth2 could not parse, or
// one without access_token) is ErrMalformedResponse. oauth2's own messages
// may quote the body, so only redacted text is kept.
func oauth2Error(name string, err error, secrets []string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status, header := 0, http.Header{}
		if re.Response != nil {
			status, header = re.Response.StatusCode, re.Response.Header
		}
		if e := parseError(status, header, re.Body, secrets); e != nil {
			return e
		}
		// A 2xx that oauth2 still rejected: an RFC 6749 error code that
		// parseError did not recognise.
		return fmt.Errorf("instagram: %s: %w: %s", name, ErrMalformedResponse, CutText(Redact(re.ErrorCode, secrets...), maxShortText))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return transportError(name, ue)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("instagram: %s: %w", name, err)
	}
	return fmt.Errorf("instagram: %s: %w: %s", name, ErrMalformedResponse, CutText(Redact(err.Error(), secrets...), MaxMessageBytes))
}
