// Package graph is the plugin's HTTP client for Meta's token endpoints: the
// Instagram Login flow (authorize URL, code exchange, short- to long-lived
// exchange, refresh, /me) and the Facebook Login flow (dialog URL, code
// exchange, fb_exchange_token, Page tokens, debug_token, app token) and the
// Threads flow (dialog URL, code exchange, th_exchange_token, th_refresh_token,
// /v1.0/me), which has Instagram Login's token model on hosts of its own.
//
// It exists as its own package because Meta's endpoints are only partly OAuth
// 2.0: api.instagram.com wraps its token response in a "data" array or sends
// it flat, sends user ids above 2^53 as JSON numbers, and answers errors in a
// flat shape unlike the Graph API's. Those quirks are absorbed here, so the
// Vault backend sees plain Go values and one error type, *Error, which
// Classify sorts into what a token manager does next: retry, back off, ask
// for re-authorization, or give up on that request.
//
// Where the flow is standard OAuth 2.0 (Facebook's code exchange and the
// client-credentials app token) the client uses golang.org/x/oauth2.
//
// Secrets (the app secret, tokens, codes) never appear in errors: every error
// built from a response has the secrets of its request replaced by
// "[redacted]", and transport errors drop the request's query string.
//
// Every host can be redirected through Endpoints (a proxy, a mirror, or the
// fake in package graphtest, which serves all hosts under one listener).
package graph
