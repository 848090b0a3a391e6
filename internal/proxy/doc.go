// Package proxy holds the rules of the Graph API pass-through
// (proxy/<name>/<graph path>) that need no Vault: which Graph paths and
// parameters a caller may send, the bounded label a path is counted under,
// and how Graph's paging links, which carry the account's token, are made
// safe to hand back.
//
// The rules exist because Vault policy is the proxy's access control, and
// Vault policy matches the request path only: anything that lets a caller
// reach another object or another host than the path names (a traversal, a
// scheme, a host, a multi-ID request, an HTTP method override) would let a
// narrow policy act wider than it reads, so each is refused before Meta is
// called.
package proxy
