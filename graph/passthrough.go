package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// EndpointProxy labels the calls the Graph pass-through (proxy/) makes on
// behalf of an application.
const EndpointProxy Endpoint = "proxy"

// PassthroughCall is one Graph call an application makes through the
// engine with an account's token, which the application never holds.
type PassthroughCall struct {
	// GraphBase is the Graph host of the account's login (with any path
	// prefix), and Version the API version to call ("" for none).
	GraphBase, Version string
	// Method is GET or POST.
	Method string
	// Path is a Graph path already checked by the caller (no traversal, no
	// host); it is appended to GraphBase and Version, never resolved.
	Path string
	// Params are the caller's parameters, already checked (no
	// access_token, appsecret_proof or method override among them).
	Params url.Values
	// Token is the account's token: sent, with its appsecret_proof, in the
	// query of a GET and the form body of a POST.
	Token string
}

// PassthroughAnswer is Graph's successful answer to a PassthroughCall.
type PassthroughAnswer struct {
	Status int
	Body   []byte // bounded by Config.MaxResponseBytes
	// Proof is the appsecret_proof the call sent: as much a secret as the
	// token, so the caller checks its answer for it too, without a second
	// HMAC per call.
	Proof string
}

// Passthrough makes call and returns Graph's 2xx answer. A non-2xx answer
// is an *Error with Meta's status, code, subcode and redacted message; an
// answer past the size bound is ErrResponseTooLarge (it is never buffered
// whole); a redirect is not followed.
func (c *Client) Passthrough(ctx context.Context, call PassthroughCall) (*PassthroughAnswer, error) {
	if call.Method != http.MethodGet && call.Method != http.MethodPost {
		return nil, errors.New("instagram: proxy: only GET and POST are passed through")
	}
	if call.Token == "" {
		return nil, errors.New("instagram: proxy: no token")
	}
	params := url.Values{}
	for k, v := range call.Params {
		params[k] = append([]string(nil), v...)
	}
	params.Set("access_token", call.Token)
	proof := c.appSecretProof(call.Token)
	setIf(params, "appsecret_proof", proof)
	req := request{
		name:     "proxy",
		endpoint: EndpointProxy,
		method:   call.Method,
		url:      joinURL(call.GraphBase, call.Version, call.Path),
		secrets:  []string{call.Token, c.appSecret, proof},
	}
	if call.Method == http.MethodPost {
		req.form = params
	} else {
		req.query = params
	}
	status, header, body, err := c.do(withEndpoint(ctx, req.endpoint), req)
	if err != nil {
		return nil, err
	}
	if e := parseError(status, header, body, req.secrets); e != nil {
		return nil, e
	}
	// The usage headers were read by the transport, for the engine's
	// rate-limit figures (Observer.Usage), as on every call.
	return &PassthroughAnswer{Status: status, Body: body, Proof: proof}, nil
}
