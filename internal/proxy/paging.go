package proxy

import (
	"bytes"
	"net/url"
	"strings"
)

// Links turns Graph's paging links into proxy paths. Graph answers a list
// with "paging": {"next": "<graph host>/<version>/<path>?access_token=...&after=..."}:
// the links carry the account's token in their query, so handing them back
// as they are would hand out the token the proxy exists to keep.
type Links struct {
	// GraphBase is the Graph host the call went to, with any path prefix
	// (the base URL the mount is configured with).
	GraphBase string
	// Prefix is what a rewritten link starts with: the mount, "proxy/" and
	// the account's name and a slash ("instagram/proxy/shop/").
	Prefix string
}

// pagingLinkKeys are the keys of a "paging" object that hold links.
var pagingLinkKeys = []string{"next", "previous"}

// Rewrite walks a decoded Graph answer and rewrites, in place, every link in
// a "paging" object to the proxy path that fetches the same page: the
// account's name, the Graph path and the query without the token and its
// proof. A link that does not point at GraphBase, or whose path or query the
// proxy would refuse, is dropped instead: the cursors beside it still let a
// caller ask for the page. It returns how many links it rewrote and dropped.
func (l Links) Rewrite(v any) (rewritten, dropped int) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == "paging" {
				if p, ok := child.(map[string]any); ok {
					r, d := l.rewritePaging(p)
					rewritten += r
					dropped += d
				}
			}
			r, d := l.Rewrite(child)
			rewritten += r
			dropped += d
		}
	case []any:
		for _, child := range t {
			r, d := l.Rewrite(child)
			rewritten += r
			dropped += d
		}
	}
	return rewritten, dropped
}

func (l Links) rewritePaging(p map[string]any) (rewritten, dropped int) {
	for _, k := range pagingLinkKeys {
		raw, ok := p[k]
		if !ok {
			continue
		}
		s, _ := raw.(string)
		if link, ok := l.proxyLink(s); ok {
			p[k] = link
			rewritten++
			continue
		}
		delete(p, k)
		dropped++
	}
	return rewritten, dropped
}

// proxyLink is the proxy path for one Graph link, or false when the link
// is not one the proxy would itself call.
func (l Links) proxyLink(raw string) (string, bool) {
	base, err := url.Parse(l.GraphBase)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return "", false
	}
	prefix := strings.TrimRight(base.EscapedPath(), "/") + "/"
	p := u.EscapedPath()
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	segs := strings.Split(strings.TrimPrefix(p, prefix), "/")
	if len(segs) > 0 && isVersion(segs[0]) {
		segs = segs[1:]
	}
	path, err := CleanPath(strings.Join(segs, "/"))
	if err != nil {
		return "", false
	}
	q := u.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "access_token", "appsecret_proof", "appsecret_time":
			q.Del(k)
		}
	}
	if CheckParams(q) != nil {
		return "", false
	}
	link := l.Prefix + path
	if len(q) > 0 {
		link += "?" + q.Encode()
	}
	return link, true
}

// Holds reports whether body contains any of secrets as it is, or
// query- or path-escaped: the last check before an answer leaves the
// engine, so that no path through Graph's answer (a link the rewrite did
// not know, an echo of the request) hands the token out.
func Holds(body []byte, secrets ...string) bool {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if bytes.Contains(body, []byte(form)) {
				return true
			}
		}
	}
	return false
}
