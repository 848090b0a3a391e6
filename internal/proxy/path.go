package proxy

import (
	"errors"
	"fmt"
	"strings"
)

// MaxPathLength bounds a Graph path; the longest real one (an id, an edge
// and a sub-edge) is well under 100 bytes.
const MaxPathLength = 512

// maxSegments bounds how deep a path goes: Graph nests an object, an edge
// and at most a sub-edge.
const maxSegments = 6

// ErrBadPath is wrapped by every refusal of CleanPath.
var ErrBadPath = errors.New("not a Graph path")

// CleanPath checks a Graph path as a caller gave it (after Vault has
// decoded the request URL once) and returns it without its leading or
// trailing slash. Graph's objects and edges are ids and words, so it accepts
// only segments of letters, digits, '_' and '-', and so refuses:
//   - "." and ".." segments, raw or percent-encoded (any '%' is refused, as
//     a percent-encoded path could decode to a traversal further along);
//   - a scheme, a host, userinfo, a query or a fragment (':', '//', '.',
//     '@', '?', '#') and backslashes, so the path cannot name another host;
//   - a leading version segment ("v25.0"): the mount's configured version is
//     the one used;
//   - empty paths and empty segments.
func CleanPath(raw string) (string, error) {
	if len(raw) > MaxPathLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadPath, MaxPathLength)
	}
	p := strings.TrimSuffix(strings.TrimPrefix(raw, "/"), "/")
	if p == "" {
		return "", fmt.Errorf("%w: empty", ErrBadPath)
	}
	segs := strings.Split(p, "/")
	if len(segs) > maxSegments {
		return "", fmt.Errorf("%w: more than %d segments", ErrBadPath, maxSegments)
	}
	for i, s := range segs {
		if s == "" {
			return "", fmt.Errorf("%w: empty segment", ErrBadPath)
		}
		if i == 0 && isVersion(s) {
			return "", fmt.Errorf("%w: the Graph API version is the mount's, not part of the path", ErrBadPath)
		}
		for _, r := range s {
			if !pathRune(r) {
				return "", fmt.Errorf("%w: only letters, digits, '_' and '-' may appear in a segment", ErrBadPath)
			}
		}
	}
	return strings.Join(segs, "/"), nil
}

func pathRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// isVersion reports whether s looks like a Graph API version: "v" and a
// number with at most one dot ("v25.0", "v1.0").
func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	dots := 0
	for _, r := range s[1:] {
		switch {
		case r == '.':
			dots++
		case r < '0' || r > '9':
			return false
		}
	}
	return dots <= 1 && s[1] != '.'
}
