package graph

import "testing"

// TestRedactCatchesEveryFormOfEverySecret: what the one Redact catches,
// the union of what the plugin's and this package's used to: each secret
// given, however short, as it is and URL-escaped as a query value or a
// path segment; a secret inside another is not left half shown; an empty
// secret, or none, changes nothing.
func TestRedactCatchesEveryFormOfEverySecret(t *testing.T) {
	const secret = "s3cr3t a+b/c=" // escapes differently as query and path
	cases := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"raw", "bad token IGAAtoken here", []string{"IGAAtoken"}, "bad token [redacted] here"},
		{"every occurrence", "IGAAtoken, again IGAAtoken", []string{"IGAAtoken"}, "[redacted], again [redacted]"},
		{"several secrets", "token IGAAtoken secret s3cr3t", []string{"IGAAtoken", "s3cr3t"}, "token [redacted] secret [redacted]"},
		{"query-escaped", "GET /x?access_token=s3cr3t+a%2Bb%2Fc%3D", []string{secret}, "GET /x?access_token=[redacted]"},
		{"path-escaped", "GET /s3cr3t%20a+b%2Fc=/me", []string{secret}, "GET /[redacted]/me"},
		{"raw among escaped", "s3cr3t a+b/c= and s3cr3t+a%2Bb%2Fc%3D", []string{secret}, "[redacted] and [redacted]"},
		{"short secret", "code xy2 refused", []string{"xy2"}, "code [redacted] refused"},
		{"secret inside another", "token IGAAtokenLONG", []string{"IGAAtoken", "IGAAtokenLONG"}, "token [redacted]"},
		{"empty secret", "abc", []string{""}, "abc"},
		{"no secrets", "abc", nil, "abc"},
		{"nothing to hide", "no secret here", []string{"IGAAtoken"}, "no secret here"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.secrets...); got != tc.want {
				t.Fatalf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
			}
		})
	}
}
