package graph

// The parser's internals, for the signed_request tests' checks of what it
// accepts.
var (
	DecodeBase64URL      = decodeBase64URL
	SignatureMatches     = signatureMatches
	UserIDRegex          = userIDRegex
	SignedRequestReasons = signedRequestReasons
)
