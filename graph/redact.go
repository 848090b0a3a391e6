package graph

import (
	"net/url"
	"strings"
)

const redacted = "[redacted]"

// redact replaces every occurrence of each secret in s, raw and in the
// URL-encoded forms a server may echo back, with "[redacted]". Meta's
// messages sometimes quote the request; the secrets are what the caller
// sent, so the caller is the one who knows what to hide.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}
