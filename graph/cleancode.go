package graph

import "strings"

// CleanCode returns an authorization code as Meta expects it back. Operators
// paste codes straight from the redirect URL, and Meta ends that URL with a
// fragment that is not part of the code: Instagram appends "#_", Facebook
// "#_=_". CleanCode trims surrounding space and such a trailing fragment
// (also a lone trailing "#"), and leaves anything else untouched.
func CleanCode(code string) string {
	code = strings.TrimSpace(code)
	for _, frag := range []string{"#_=_", "#_", "#"} {
		if strings.HasSuffix(code, frag) {
			return strings.TrimSpace(strings.TrimSuffix(code, frag))
		}
	}
	return code
}
