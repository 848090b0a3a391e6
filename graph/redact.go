package graph

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Redacted is what Redact puts where a secret was.
const Redacted = "[redacted]"

// Redact replaces every occurrence of each secret in s, as it is and in the
// URL-escaped forms a server may echo back (query and path escaping), with
// "[redacted]". Meta's messages sometimes quote the request; the secrets
// are what the caller sent, so the caller is the one who knows what to
// hide. The engine uses it for every text that may carry a secret on its
// way to an error, a log or a stored last_error.
//
// Every non-empty secret is caught, however short (an empty one is
// skipped: it would match everywhere). Longer forms go first, so a secret
// that contains another is hidden whole rather than leaving its rest.
func Redact(s string, secrets ...string) string {
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms = append(forms, sec, url.QueryEscape(sec), url.PathEscape(sec))
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, form := range slices.Compact(forms) {
		s = strings.ReplaceAll(s, form, Redacted)
	}
	return s
}
