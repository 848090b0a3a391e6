package instagram

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// A login is one of Meta's login setups: how an account's owner authorizes
// the app, what token that gives and how the engine keeps it alive. Meta
// keeps adding and retiring them, so everything that differs between them
// lives behind this interface, one implementation a file (login_*.go), and
// the paths, the periodic work and the state transitions ask the login
// rather than compare its name, as Vault's database engine hides its
// plugin protocol versions behind one wrapper type (version_wrapper.go).
//
// A new Meta setup is one new login_<name>.go implementing login, a row in
// logins and, if it brings its own client calls, its interface embedded in
// metaClient (both below); then its config fields and the fake.
type login interface {
	// name is config's login value, which accounts record (account.Login).
	name() string
	// title names the login in messages: "Instagram Login".
	title() string
	// product names Meta's product on the owner's callback page and in
	// refusals: "Instagram".
	product() string
	// defaultScopes are config's scopes under this login until written.
	defaultScopes() []string

	// refreshes reports whether Meta offers a refresh grant for the
	// login's tokens: the periodic work then refreshes them, and checks
	// them daily between refreshes; otherwise it only checks them, and a
	// token nearing its end is expiring, renewed by its owner alone.
	// internal/schedule's timing rules make the same split
	// (schedule.Account.Timing: only schedule.LoginFacebook is checked
	// without refreshes); TestLoginsAgreeWithTheSchedule keeps the two in
	// step.
	refreshes() bool
	// takesConfigurations reports whether the login's dialog can show a
	// Facebook Login for Business configuration (config_id) instead of
	// scopes.
	takesConfigurations() bool
	// hasPages reports whether the login's accounts can serve a Facebook
	// Page's token (page_id, accounts/<name>/pages).
	hasPages() bool

	// authURL is auth-url's login dialog, and warnings about what the
	// request asked that this dialog does not take.
	authURL(meta metaClient, d dialog) (url string, warnings []string)
	// checkGrant refuses, as a 400 naming the field, what a registration
	// gave that this login does not take.
	checkGrant(g grant) error
	// register exchanges what accounts/<name> was given (a code or a
	// token) and builds the account record to store, all but its name.
	register(ctx context.Context, b *backend, meta metaClient, cfg *config, g grant) (*account, error)
	// callback does the same for the code an owner's consent brought to
	// callback, and what follows the exchange for this login (an account
	// that served a Page keeps serving it).
	callback(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, st *pendingState, code string) (*account, error)
	// connected is the callback page once account name is stored.
	connected(a *account, name string) pageContent
	// otherUser is the callback page's message when another user than
	// the account's approved a re-authorization link.
	otherUser(a *account, name string) string

	// refresh is a refresh of stored's token at Meta, for the periodic
	// work and accounts/<name>/refresh: the new token stored, or the
	// failure recorded; refused (errRefreshRefused) when Meta would
	// refuse it, or the login has no refresh grant. The caller holds the
	// account's lock and loaded stored from storage.
	refresh(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, stored *account, now time.Time) (*account, error)
	// check is the periodic health check of stored's token, its outcome
	// stored. Same locking as refresh.
	check(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, stored *account, now time.Time) (*account, error)

	// ownerIdentity is who account a stands for at Meta, prefixed by its
	// id space ("instagram:1784..."); "" when the record does not say.
	ownerIdentity(a *account) string
	// graphHost is the base URL of the Graph host a's served token works
	// against: where an application (or the engine, on its behalf) calls
	// Graph with it.
	graphHost(cfg *config, a *account) string
	// graphVersion is the version in graphHost's paths: the Graph API's
	// (graph_api_version), or the product's own where Meta versions it
	// apart (Threads: v1.0).
	graphVersion(meta metaClient) string
	// serve is what token/<name> answers besides the token itself.
	serve(a *account, cfg *config) served
}

// dialog is what auth-url asks of a login dialog.
type dialog struct {
	redirectURI string
	scopes      []string // nil with a configuration
	state       string
	configID    string // a Facebook Login for Business configuration; "" for scopes
	forceReauth bool
	// enableFBLogin is enable_fb_login as given; nil: not given.
	enableFBLogin *bool
}

// grant is what an owner's authorization brought to a registration: a
// code (with the redirect URI it was issued for, and the configuration its
// dialog showed) or an access token (with the expiry the operator knows).
// pageID asks for a Page's token instead of the user's.
type grant struct {
	code, redirectURI, configID string
	token                       string
	// hasExpiry says expires_at was given, as expiresAt.
	hasExpiry bool
	expiresAt time.Time
	pageID    string
}

// served is what token/<name> answers of the token besides itself.
type served struct {
	// instagramUserID is the Instagram account to name in Graph calls
	// with the token; pageID the Page whose token it is.
	instagramUserID, pageID string
	// rotation is the time between two renewals of the token (or looks at
	// it, for a token that is not renewed), for rotation_period.
	rotation time.Duration
	// warning, when not empty, goes with the token.
	warning string
}

// metaClient is Meta's API as the logins call it, each login's part;
// *graph.Client implements all of them.
type metaClient interface {
	instagramClient   // login_instagram.go
	facebookClient    // login_facebook.go
	threadsClient     // login_threads.go
	passthroughClient // proxy.go: Graph calls on an application's behalf
}

// logins are the Meta setups the engine speaks, the first the default.
// Facebook Login for Business is Facebook Login with a configuration
// (login_business.go).
var logins = []login{
	instagram,
	facebookLogin{},
	threads,
}

// defaultLoginName is config's login until written.
var defaultLoginName = logins[0].name()

// loginNamed is the login called name. A name that is none of logins'
// (an empty one, say, in a record older than its login field) is taken as
// Instagram Login, as the engine always took every login but Facebook's.
func loginNamed(name string) login {
	for _, l := range logins {
		if l.name() == name {
			return l
		}
	}
	return logins[0]
}

// knownLogin reports whether name is one of logins.
func knownLogin(name string) bool {
	return slices.ContainsFunc(logins, func(l login) bool { return l.name() == name })
}

// loginNames lists the logins' names, for config's allowed values.
func loginNames() []any {
	out := make([]any, len(logins))
	for i, l := range logins {
		out[i] = l.name()
	}
	return out
}

// quotedLoginNames lists the logins' names for a message:
// "instagram", "facebook" or "threads".
func quotedLoginNames() string {
	q := make([]string, len(logins))
	for i, l := range logins {
		q[i] = strconv.Quote(l.name())
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// loginFor is config's login: what new authorizations go through.
func loginFor(cfg *config) login { return loginNamed(cfg.Login) }

// login is the login account a came through: what keeps it alive and what
// token/<name> serves of it, whatever config says now.
func (a *account) login() login { return loginNamed(a.Login) }

// switchDefaultScopes gives cfg the default scopes of its login when the
// login changed, the write did not set scopes, and the scopes were the old
// login's defaults: the products' permissions have different names, and
// each dialog refuses the others'.
func switchDefaultScopes(cfg *config, prevLogin string, d *framework.FieldData) {
	if _, given := d.GetOk("scopes"); given || prevLogin == cfg.Login {
		return
	}
	if slices.Equal(cfg.Scopes, loginNamed(prevLogin).defaultScopes()) {
		cfg.Scopes = append([]string(nil), loginFor(cfg).defaultScopes()...)
	}
}
