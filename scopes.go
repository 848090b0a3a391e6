package instagram

import (
	"fmt"
	"strings"
)

// retiredScopes maps the Instagram Login scope names Meta retired on
// 2025-01-27 to the names that replaced them. Meta's dialog refuses the old
// names, so an engine that sent one would strand the account owner on an
// error page at Instagram; the engine refuses them itself, saying what to
// write instead.
var retiredScopes = map[string]string{
	"business_basic":           "instagram_business_basic",
	"business_content_publish": "instagram_business_content_publish",
	"business_manage_messages": "instagram_business_manage_messages",
	"business_manage_comments": "instagram_business_manage_comments",
	"business_manage_insights": "instagram_business_manage_insights",
}

// checkScopes refuses a scope list with a malformed or retired name, or one
// login l's dialog refuses (loginScopeError), naming field.
func checkScopes(field string, l login, scopes []string) error {
	for _, s := range scopes {
		if !scopeRegex.MatchString(s) {
			return badField(field, "%q is not a scope name", s)
		}
	}
	if old := retiredIn(scopes); len(old) > 0 {
		return badField(field, "%s", retiredMessage(old))
	}
	return loginScopeError(field, l, scopes)
}

// retiredIn returns the retired names among scopes, in order.
func retiredIn(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if _, ok := retiredScopes[s]; ok {
			out = append(out, s)
		}
	}
	return out
}

// retiredMessage says which names were retired and what replaced them.
func retiredMessage(old []string) string {
	pairs := make([]string, len(old))
	for i, s := range old {
		pairs[i] = fmt.Sprintf("%s (now %s)", s, retiredScopes[s])
	}
	return "Meta retired these scope names on 2025-01-27 and its login dialog refuses them: " +
		strings.Join(pairs, ", ") + "; use the current names"
}

// retiredScopesWarning is the warning a config read or write carries when
// the stored default scopes still hold a retired name (stored by a version
// that accepted them): the mount keeps working, but an auth-url without
// scopes of its own is refused until config's scopes are fixed.
func retiredScopesWarning(cfg *config) string {
	old := retiredIn(cfg.Scopes)
	if len(old) == 0 {
		return ""
	}
	return "config scopes: " + retiredMessage(old) + ". auth-url without scopes of its own is refused until scopes is written with the current names"
}
