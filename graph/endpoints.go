package graph

import "strings"

// Endpoints are the base URLs of Meta's hosts. Each may carry a path prefix
// (package graphtest serves every host under one listener, one prefix per
// host), so paths are appended to them, never resolved against them.
type Endpoints struct {
	AuthBaseURL          string // default https://www.instagram.com
	APIBaseURL           string // default https://api.instagram.com
	GraphBaseURL         string // default https://graph.instagram.com
	FacebookAuthBaseURL  string // default https://www.facebook.com
	FacebookGraphBaseURL string // default https://graph.facebook.com
	ThreadsAuthBaseURL   string // default https://threads.net (DefaultThreadsAuthBaseURL)
	ThreadsGraphBaseURL  string // default https://graph.threads.net (DefaultThreadsGraphBaseURL)
	Version              string // Graph API version, default "v25.0" (not Threads': ThreadsVersion)
}

// Threads' hosts (the Threads API has hosts of its own; threads.com and
// graph.threads.com answer too, Meta's newer pages show them) and the one
// version of its Graph API, which is not the Graph API's.
const (
	DefaultThreadsAuthBaseURL  = "https://threads.net"
	DefaultThreadsGraphBaseURL = "https://graph.threads.net"
	// ThreadsVersion is the version in Threads' Graph paths (/v1.0/me).
	// Endpoints.Version does not apply to Threads: Meta versions the two
	// APIs apart, and Threads has had one version since it opened.
	ThreadsVersion = "v1.0"
)

// DefaultVersion is the Graph API version used when Endpoints.Version is empty.
// v25.0 is supported until 2028-07-29.
const DefaultVersion = "v25.0"

// DefaultEndpoints returns Meta's production hosts.
func DefaultEndpoints() Endpoints {
	return Endpoints{
		AuthBaseURL:          "https://www.instagram.com",
		APIBaseURL:           "https://api.instagram.com",
		GraphBaseURL:         "https://graph.instagram.com",
		FacebookAuthBaseURL:  "https://www.facebook.com",
		FacebookGraphBaseURL: "https://graph.facebook.com",
		ThreadsAuthBaseURL:   DefaultThreadsAuthBaseURL,
		ThreadsGraphBaseURL:  DefaultThreadsGraphBaseURL,
		Version:              DefaultVersion,
	}
}

// withDefaults fills each empty field from DefaultEndpoints, so that an
// operator can override one host (say, a proxy for graph.instagram.com) and
// keep the others. A version written without its "v" ("25.0") gets one,
// because Meta's paths need it and operators often leave it out.
func (e Endpoints) withDefaults() Endpoints {
	d := DefaultEndpoints()
	fill := func(v *string, def string) {
		if strings.TrimSpace(*v) == "" {
			*v = def
		}
	}
	fill(&e.AuthBaseURL, d.AuthBaseURL)
	fill(&e.APIBaseURL, d.APIBaseURL)
	fill(&e.GraphBaseURL, d.GraphBaseURL)
	fill(&e.FacebookAuthBaseURL, d.FacebookAuthBaseURL)
	fill(&e.FacebookGraphBaseURL, d.FacebookGraphBaseURL)
	fill(&e.ThreadsAuthBaseURL, d.ThreadsAuthBaseURL)
	fill(&e.ThreadsGraphBaseURL, d.ThreadsGraphBaseURL)
	fill(&e.Version, d.Version)
	e.Version = strings.Trim(strings.TrimSpace(e.Version), "/")
	if e.Version != "" && e.Version[0] >= '0' && e.Version[0] <= '9' {
		e.Version = "v" + e.Version
	}
	return e
}

// joinURL appends path elements to base with exactly one slash between each,
// keeping any path prefix base has. Empty elements are skipped, so an
// unversioned call can pass "" for the version.
func joinURL(base string, elems ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	for _, el := range elems {
		el = strings.Trim(el, "/")
		if el == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(el)
	}
	return b.String()
}
