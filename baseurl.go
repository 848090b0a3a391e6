package instagram

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Every *_base_url config field names where the engine sends, for one of
// Meta's services, the account tokens (refresh, /me, debug_token) and, on
// code exchanges, the app secret. Whoever may write them may read every
// token, and anyone on the path of a plain-http base URL reads them too.
// So a base URL must be https, except on a loopback host (127.0.0.0/8,
// ::1, localhost: the tests' fake Meta, make dev), which may be http; and
// one whose host is neither Meta's nor loopback (a proxy, a mirror: both
// legitimate) is accepted with a warning and logged.

// metaHosts are the hosts of Meta's services the engine calls (the
// defaults, graph.DefaultEndpoints) and the apex names they live under.
var metaHosts = map[string]bool{
	"graph.instagram.com": true,
	"api.instagram.com":   true,
	"www.instagram.com":   true,
	"instagram.com":       true,
	"graph.facebook.com":  true,
	"www.facebook.com":    true,
	"facebook.com":        true,
	// Threads' (login=threads); Meta's newer pages name the .com hosts.
	"threads.net":       true,
	"graph.threads.net": true,
	"threads.com":       true,
	"graph.threads.com": true,
}

// baseURLField is one *_base_url field and where config keeps its value.
type baseURLField struct {
	name  string
	value *string
}

// baseURLFields lists config's base URL fields. TestEveryBaseURLFieldIsChecked
// fails if a *_base_url field is added to configFields and not here.
func (c *config) baseURLFields() []baseURLField {
	return []baseURLField{
		{"auth_base_url", &c.AuthBaseURL},
		{"api_base_url", &c.APIBaseURL},
		{"graph_base_url", &c.GraphBaseURL},
		{"facebook_auth_base_url", &c.FacebookAuthBaseURL},
		{"facebook_graph_base_url", &c.FacebookGraphBaseURL},
		{"threads_auth_base_url", &c.ThreadsAuthBaseURL},
		{"threads_graph_base_url", &c.ThreadsGraphBaseURL},
	}
}

// baseURLHost is what checkBaseURL found out about an accepted base URL.
type baseURLHost struct {
	host string // as written, with its port: what a log line shows
	meta bool   // one of Meta's hosts
	loop bool   // a loopback host
}

// checkBaseURL applies the rule above to one field's value: a 400 naming
// the field, or what host it points at.
func checkBaseURL(field, raw string) (baseURLHost, error) {
	if err := checkURL(field, raw); err != nil {
		return baseURLHost{}, err
	}
	u, _ := url.Parse(raw) // checkURL parsed it
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		// The engine appends paths to a base URL: a query or fragment
		// would swallow them.
		return baseURLHost{}, badField(field, "must not carry a query or a fragment")
	}
	name := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	h := baseURLHost{host: u.Host, meta: metaHosts[name], loop: isLoopbackHost(name)}
	if u.Scheme != "https" && !h.loop {
		// url.Parse lowercases the scheme: HTTPS:// is https.
		return baseURLHost{}, badField(field, "must be an https URL (http only on a loopback host: 127.0.0.0/8, ::1, localhost)")
	}
	return h, nil
}

// isLoopbackHost reports whether a host name (lower case, no port, no
// trailing dot) is loopback: localhost, or a loopback IP address written
// as one (not a name that merely starts with one, like 127.0.0.1.nip.io).
func isLoopbackHost(name string) bool {
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// warnForeignBaseURLs adds a warning to resp, and logs at info, for each
// base URL the write gave (cfg is valid and stored) whose host is neither
// Meta's nor loopback. The log line holds the field and the host only: a
// base URL's path is the operator's business, and it carries no secret
// (checkURL refuses credentials) but need not be spread further.
func (b *backend) warnForeignBaseURLs(resp *logical.Response, cfg *config, d *framework.FieldData) {
	for _, f := range cfg.baseURLFields() {
		if _, given := d.GetOk(f.name); !given {
			continue
		}
		h, err := checkBaseURL(f.name, *f.value)
		if err != nil || h.meta || h.loop {
			continue
		}
		resp.AddWarning(fmt.Sprintf("%s points at %s, which is not one of Meta's hosts: every call for this service, with account tokens (and the app secret on code exchanges), now goes there", f.name, h.host))
		b.Logger().Info("config: a base URL points at a host that is not Meta's", "field", f.name, "host", h.host)
	}
}

// storedBaseURLError applies the rule above to a config as read from
// storage: a record written before the engine had the rule (or by a
// version without it) is otherwise honoured until its next write. The
// first field that breaks the rule is a 400 naming it and its host (never
// the whole URL, which an old record may have written with credentials);
// metaFor refuses to build a client from such a config, so nothing is sent
// anywhere until config is written again, and status reports it. An empty
// field is Meta's default (graph.Endpoints.withDefaults).
func (c *config) storedBaseURLError() error {
	for _, f := range c.baseURLFields() {
		if *f.value == "" {
			continue
		}
		if _, err := checkBaseURL(f.name, *f.value); err != nil {
			why := strings.TrimPrefix(err.Error(), f.name+": ")
			return badField(f.name, "the stored config points at %s, which breaks the base URL rule (%s): the engine sends nothing to Meta until config is written again with a valid %s",
				storedHost(*f.value), why, f.name)
		}
	}
	return nil
}

// storedHost is the host a stored base URL names, for messages: cut short,
// and never the URL's path, query or credentials.
func storedHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "an unreadable URL"
	}
	return graph.CutText(u.Hostname(), 253)
}
