package graphtest

import (
	"crypto/rand"
	"strconv"
	"time"
)

// Lifetimes Meta documents.
const (
	CodeLifetime          = time.Hour
	ShortLivedLifetime    = time.Hour
	LongLivedLifetime     = 60 * 24 * time.Hour
	FacebookUserLifetime  = 2 * time.Hour // "1-2 h": the fake takes the upper end
	DataAccessLifetime    = 90 * 24 * time.Hour
	MinRefreshAge         = 24 * time.Hour
	firstUserID           = 27640875392278831 // above 2^53 and odd: float64 cannot hold it
	firstAppScopedID      = 9100000000000001  // above 2^53 and odd too
	firstPageID           = 104000000000001
	firstThreadsUserID    = 25149591021376543 // above 2^53 and odd, like every id
	userIDStride          = 2                 // keeps every id odd
	defaultAuthorizedUser = "fake_user"
)

// TokenKind says which product and lifetime a token has.
type TokenKind string

const (
	KindShortLived       TokenKind = "short"         // Instagram Login, 1 h
	KindLongLived        TokenKind = "long"          // Instagram Login, 60 days, refreshable
	KindFacebookUser     TokenKind = "facebook"      // Facebook Login user token, 2 h
	KindFacebookLongUser TokenKind = "facebook_long" // Facebook Login user token, 60 days
	KindPage             TokenKind = "page"          // Page token, never expires
	KindApp              TokenKind = "app"           // app token, never expires
	// KindSystemUser is a Business Integration System User token from a
	// Facebook Login for Business configuration: never expires, or 60
	// days (business.go).
	KindSystemUser TokenKind = "system_user"
	// Threads (threads.go): 1 h, and 60 days, refreshable.
	KindThreadsShortLived TokenKind = "threads_short"
	KindThreadsLongLived  TokenKind = "threads_long"
)

func (k TokenKind) instagram() bool { return k == KindShortLived || k == KindLongLived }
func (k TokenKind) threads() bool   { return k == KindThreadsShortLived || k == KindThreadsLongLived }

// product is the login a code was issued by: a code is good only at its
// own product's exchange.
type product int

const (
	productInstagram product = iota
	productFacebook
	productThreads
)

// User is an account the fake knows. Ids are decimal strings above 2^53.
type User struct {
	ID       string `json:"id"`      // app-scoped id (also the Facebook user id)
	UserID   string `json:"user_id"` // Instagram professional account id
	Username string `json:"username"`
	PageID   string `json:"page_id"` // the Facebook Page linked to the account
	// ThreadsUserID is the account's Threads profile's id (the Threads
	// code exchange's user_id, /me's id on graph.threads.net).
	ThreadsUserID string `json:"threads_user_id"`
}

// Page is a Facebook Page a user manages.
type Page struct {
	ID                         string `json:"id"`
	Name                       string `json:"name"`
	OwnerUserID                string `json:"owner_user_id"`
	InstagramBusinessAccountID string `json:"instagram_business_account_id,omitempty"`
}

// TokenState is what the fake knows of a token, for assertions.
type TokenState struct {
	Kind      TokenKind `json:"kind"`
	UserID    string    `json:"user_id"` // the owner's User.UserID ("" for app tokens)
	PageID    string    `json:"page_id,omitempty"`
	Scopes    []string  `json:"scopes"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"` // zero: never
	Revoked   bool      `json:"revoked"`
	// SystemUserID is the system user a KindSystemUser token belongs to
	// (debug_token's user_id); UserID is then the person who authorized
	// for the business, whose Pages the token reaches.
	SystemUserID string `json:"system_user_id,omitempty"`
}

type tokenRecord struct {
	TokenState
	revokeSubcode int
}

type codeRecord struct {
	product     product
	configID    string // Facebook Login for Business: the configuration the dialog showed
	userID      string
	scopes      []string
	redirectURI string
	expiresAt   time.Time
	used        bool
}

// store is the fake's state. It has no lock of its own: Server.mu guards it.
type store struct {
	users      []*User
	byKey      map[string]*User // by UserID, ID and username
	pages      []*Page
	pageTokens map[string]string // page id -> its token
	tokens     map[string]*tokenRecord
	codes      map[string]*codeRecord
	latest     map[string]string // user id -> newest token minted for it
	configs    map[string]*Configuration
	// systemUsers maps an authorizing user's id to the system user of
	// their business (business.go).
	systemUsers map[string]string
}

func newStore() store {
	return store{
		byKey:       map[string]*User{},
		pageTokens:  map[string]string{},
		tokens:      map[string]*tokenRecord{},
		codes:       map[string]*codeRecord{},
		latest:      map[string]string{},
		configs:     map[string]*Configuration{},
		systemUsers: map[string]string{},
	}
}

// newSecret returns a fresh random token or code with Meta's prefix for
// its kind (IGAA for Instagram, EAA for Facebook, AQ for codes).
func newSecret(prefix string) string { return prefix + rand.Text() + rand.Text() }

func (st *store) addUser(username string) *User {
	if u, ok := st.byKey[username]; ok && u.Username == username {
		return u
	}
	n := int64(len(st.users))
	u := &User{
		ID:       strconv.FormatInt(firstAppScopedID+userIDStride*n, 10),
		UserID:   strconv.FormatInt(firstUserID+userIDStride*n, 10),
		Username: username,
		// Every account has a Threads profile: Threads profiles are made
		// from Instagram accounts, with the same username.
		ThreadsUserID: strconv.FormatInt(firstThreadsUserID+userIDStride*n, 10),
	}
	st.users = append(st.users, u)
	for _, k := range []string{u.UserID, u.ID, u.Username, u.ThreadsUserID} {
		st.byKey[k] = u
	}
	u.PageID = st.addPage(u, username+" Page", true).ID
	return u
}

func (st *store) addPage(owner *User, name string, linked bool) *Page {
	p := &Page{
		ID:          strconv.FormatInt(firstPageID+userIDStride*int64(len(st.pages)), 10),
		Name:        name,
		OwnerUserID: owner.UserID,
	}
	if linked {
		p.InstagramBusinessAccountID = owner.UserID
	}
	st.pages = append(st.pages, p)
	return p
}

func (st *store) pagesOf(userID string) []*Page {
	var out []*Page
	for _, p := range st.pages {
		if p.OwnerUserID == userID {
			out = append(out, p)
		}
	}
	return out
}

// user finds a user by UserID, ID, username or ThreadsUserID.
func (st *store) user(key string) (*User, bool) {
	u, ok := st.byKey[key]
	return u, ok
}

// defaultUser is who the fake's login dialogs sign in: the first user
// added, or "fake_user", created on first need.
func (st *store) defaultUser() *User {
	if len(st.users) > 0 {
		return st.users[0]
	}
	return st.addUser(defaultAuthorizedUser)
}

func (st *store) mintToken(kind TokenKind, userID string, scopes []string, issuedAt time.Time) string {
	tok := newSecret(tokenPrefix(kind))
	rec := &tokenRecord{TokenState: TokenState{
		Kind:     kind,
		UserID:   userID,
		Scopes:   append([]string(nil), scopes...),
		IssuedAt: issuedAt,
	}}
	switch kind {
	case KindShortLived, KindThreadsShortLived:
		rec.ExpiresAt = issuedAt.Add(ShortLivedLifetime)
	case KindLongLived, KindFacebookLongUser, KindThreadsLongLived:
		rec.ExpiresAt = issuedAt.Add(LongLivedLifetime)
	case KindFacebookUser:
		rec.ExpiresAt = issuedAt.Add(FacebookUserLifetime)
	}
	st.tokens[tok] = rec
	if userID != "" {
		st.latest[userID] = tok
	}
	return tok
}

func (st *store) mintCode(p product, userID string, scopes []string, redirectURI string, now time.Time) string {
	code := newSecret("AQB")
	st.codes[code] = &codeRecord{
		product:     p,
		userID:      userID,
		scopes:      append([]string(nil), scopes...),
		redirectURI: redirectURI,
		expiresAt:   now.Add(CodeLifetime),
	}
	return code
}

// tokenPrefix mimics Meta's: IGAA for Instagram Login, EAA for Facebook,
// THAA for Threads (made up in the same style: Meta shows TH only on
// Threads app tokens, "TH|<app id>|...").
func tokenPrefix(k TokenKind) string {
	switch k {
	case KindShortLived, KindLongLived:
		return "IGAA"
	case KindThreadsShortLived, KindThreadsLongLived:
		return "THAA"
	case KindPage:
		return "EAAP"
	}
	return "EAA"
}
