package instagram

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"
)

// errNotConfigured is answered (as a 400) by every path that needs the Meta app.
var errNotConfigured = errors.New("config: the Meta app is not configured; write app_id and app_secret to config first")

// nameRegex is framework.GenericNameRegex anchored: path patterns accept any
// segment so that a bad name gets a 400 naming the field instead of a 404.
var nameRegex = regexp.MustCompile(`^\w(([\w-.]+)?\w)?$`)

const maxNameLength = 128

var (
	graphVersionRegex = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	scopeRegex        = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)
)

// cleanScopes trims, drops empty entries and duplicates, keeping order.
func cleanScopes(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// fieldError is bad input: a 400 that names the field.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func badField(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// checkName validates an account name taken from the path.
func checkName(name string) error {
	if name == "" {
		return badField("name", "is required")
	}
	if len(name) > maxNameLength {
		return badField("name", "longer than %d characters", maxNameLength)
	}
	if !nameRegex.MatchString(name) {
		return badField("name", "must start and end with a letter, digit or underscore and contain only those, '-' and '.'")
	}
	return nil
}

// maxURLLength bounds URLs taken from requests; browsers and Meta's
// dashboard stop well below it.
const maxURLLength = 2048

// checkURL accepts an absolute http or https URL.
func checkURL(field, raw string) error {
	if len(raw) > maxURLLength {
		return badField(field, "is longer than %d characters", maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badField(field, "must be an absolute http or https URL")
	}
	if u.User != nil {
		return badField(field, "must not carry credentials")
	}
	return nil
}

// respondErr turns a handler error into Vault's answer: bad input and a
// missing config are 400s, everything else an internal error.
func respondErr(err error) (*logical.Response, error) {
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return logical.ErrorResponse(fe.Error()), nil
	case errors.Is(err, errNotConfigured):
		return logical.ErrorResponse(err.Error()), nil
	}
	return nil, err
}
