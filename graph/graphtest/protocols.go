package graphtest

// The fakemeta command counts, in front of the fake, the requests that
// reached its listener by protocol and User-Agent, and answers the counts
// on GET ProtocolsPath: a benchmark reads them to show that the plugin's
// calls took the protocol they take to Meta (HTTP/2 over TLS). The answer's
// shape lives here, where both the command and its readers import it.

// ProtocolsPath is where the fakemeta command answers its counts, outside
// the fake's own /_fake/ admin API.
const ProtocolsPath = "/_fakemeta/protocols"

// ProtocolCount is one line of the ProtocolsPath answer.
type ProtocolCount struct {
	Proto     string `json:"proto"` // as the server saw it: "HTTP/2.0", "HTTP/1.1"
	UserAgent string `json:"user_agent"`
	Requests  int    `json:"requests"`
}
