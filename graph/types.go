package graph

import "time"

// ShortLivedToken is the answer to an Instagram Login or Threads code
// exchange: a token valid for one hour. Threads' answer lists no
// Permissions.
type ShortLivedToken struct {
	AccessToken string
	UserID      string // decimal text, exact (ids exceed 2^53)
	Permissions []string
}

// LongLivedToken is a token with its lifetime: the answer to
// ig_exchange_token, ig_refresh_token, a Facebook code exchange,
// fb_exchange_token, the app-token grant, th_exchange_token and
// th_refresh_token.
type LongLivedToken struct {
	AccessToken string
	TokenType   string
	ExpiresIn   int64 // seconds from the response; 0 when Meta sent none (tokens that do not expire)
}

// User is what /me says about a token's account. Ids are decimal text.
type User struct {
	ID          string // app-scoped id
	UserID      string // Instagram professional account id; for Threads, the Threads user id (= ID)
	Username    string
	Name        string
	AccountType string
}

// Page is a Facebook Page the user manages, with its Page token (which does
// not expire when derived from a long-lived user token) and the linked
// Instagram professional account, if any.
type Page struct {
	ID                         string
	Name                       string
	AccessToken                string
	InstagramBusinessAccountID string
}

// TokenInfo is debug_token's view of a token. Zero times mean "never"
// (Meta sends 0) or "not reported".
type TokenInfo struct {
	AppID               string
	Type                string // USER, PAGE, APP or SYSTEM_USER (a Business Integration System User)
	UserID              string
	IsValid             bool
	ExpiresAt           time.Time
	DataAccessExpiresAt time.Time
	IssuedAt            time.Time
	Scopes              []string
	// Error says why the token is not valid (for example code 190,
	// subcode 463 for an expired one); nil when Meta gave no reason.
	Error *Error
}
