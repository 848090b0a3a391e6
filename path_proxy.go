package instagram

import (
	"context"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const pathProxyHelpSyn = `Call the Graph API with an account's token, which the caller never holds.`

const pathProxyHelpDesc = `
A read of proxy/<name>/<graph path> calls GET on the account's Graph host
(graph.instagram.com for Instagram Login, graph.facebook.com for Facebook
Login) at the configured API version, with the account's token and its
appsecret_proof, and answers Graph's JSON object as the data. An update
sends the request's fields as a POST: creating and publishing a media
container, replying to a comment. Query parameters (a read) and fields (an
update) are passed to Graph as they are.

Vault policy is the access control: path "instagram/proxy/shop/me/media"
with capabilities ["read"] lets an application list shop's media and
nothing else, and it still cannot read token/shop.

Refused with a 400, before Meta is called: a Graph path with a traversal
("..", raw or percent-encoded), a scheme, a host or a version; and the
parameters access_token, appsecret_proof, method (an HTTP method
override), ids (a multi-ID request), batch and callback, each of which
would let a request act beyond the path its policy names.

Paging links in Graph's answers carry the token: they are rewritten to
proxy paths, or dropped when they point elsewhere. Meta's errors come back
with Meta's HTTP status, code and subcode; a token Meta refuses (code 190)
marks the account needs_reauth; while Meta has paused the app the proxy
answers 429 with Retry-After and calls nothing.
`

// proxyPathPrefix is where applications call Graph through the engine.
const proxyPathPrefix = "proxy/"

func pathProxy(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: proxyPathPrefix + accountNamePattern + "/(?P<graph_path>.+)$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "proxy",
		},
		Fields: b.proxyFields,
		// Graph's parameters are the caller's to choose: any name is
		// passed on, checked by name in internal/proxy. Those declared in
		// proxyFields are the common ones, for the API's documentation.
		TakesArbitraryInput: true,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback: b.withAccount(func(ctx context.Context, req *logical.Request, d *framework.FieldData, a *account) (*logical.Response, error) {
					return b.proxyGraph(ctx, req, d, a, http.MethodGet)
				}),
				Summary:     "GET a Graph path with the account's token.",
				Description: "Calls GET on the account's Graph host with its token and appsecret_proof, the query parameters passed on; answers Graph's JSON object, paging links rewritten to proxy paths.",
				Responses:   proxyResponses(),
			},
			logical.UpdateOperation: &framework.PathOperation{
				Callback: b.withAccount(func(ctx context.Context, req *logical.Request, d *framework.FieldData, a *account) (*logical.Response, error) {
					return b.proxyGraph(ctx, req, d, a, http.MethodPost)
				}),
				Summary:     "POST the request's fields to a Graph path with the account's token.",
				Description: "Calls POST on the account's Graph host with the request's fields as the form, the account's token and appsecret_proof: creating and publishing a media container, replying to a comment.",
				Responses:   proxyResponses(),
			},
		},
		HelpSynopsis:    pathProxyHelpSyn,
		HelpDescription: pathProxyHelpDesc,
	}}
}

// proxyFields are the path's parameters, and the Graph parameters most
// calls use, declared so the API's documentation shows them; any other
// parameter is passed on too.
func proxyFields() map[string]*framework.FieldSchema {
	query := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeString, Description: desc, Query: true}
	}
	body := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeString, Description: desc}
	}
	return map[string]*framework.FieldSchema{
		"name":        accountNameField(),
		"graph_path":  {Type: framework.TypeString, Description: "The Graph path to call, after the version: me/media, <ig user id>/media_publish, <media id>/insights."},
		"fields":      query("Graph's fields parameter: the fields to answer, comma-separated."),
		"limit":       query("Graph's page size for lists."),
		"after":       query("Graph's cursor for the next page."),
		"before":      query("Graph's cursor for the previous page."),
		"metric":      query("Insights: the metrics to answer, comma-separated."),
		"period":      query("Insights: the period (day, week, days_28, lifetime)."),
		"image_url":   body("Publishing: the public URL of the image of a media container."),
		"video_url":   body("Publishing: the public URL of the video of a media container."),
		"media_type":  body("Publishing: IMAGE (default), REELS, STORIES or CAROUSEL."),
		"caption":     body("Publishing: the caption of a media container."),
		"creation_id": body("Publishing: the media container to publish (media_publish)."),
	}
}

func proxyResponses() map[int][]framework.Response {
	return map[int][]framework.Response{http.StatusOK: {{
		Description: "Graph's JSON object, as Graph answered it, with paging links rewritten to proxy paths. Its keys are Graph's; the common ones are listed.",
		Fields: map[string]*framework.FieldSchema{
			"id":     {Type: framework.TypeString, Description: "The object's id (a read of one object, or what a POST created)."},
			"data":   {Type: framework.TypeSlice, Description: "A list's items."},
			"paging": {Type: framework.TypeMap, Description: "A list's cursors, and its next and previous pages as proxy paths."},
		},
	}}}
}

// fastProxyRead answers a read of proxy/<name>/<graph path> without the
// framework's router, for the reason fastTokenRead gives: the router asks
// Vault for the replication state before every operation, a gRPC round
// trip back to Vault that a read with no forwarding flag has no use for, and
// which the proxy exists to make cheap (BENCHMARKS.md). Writes (POST) go
// through the framework, which hands them to the active node where needed.
func (b *backend) fastProxyRead(ctx context.Context, req *logical.Request) (*logical.Response, error, bool) {
	if req.Operation != logical.ReadOperation {
		return nil, nil, false
	}
	rest, ok := strings.CutPrefix(req.Path, proxyPathPrefix)
	if !ok {
		return nil, nil, false
	}
	name, graphPath, ok := strings.Cut(rest, "/")
	if !ok || name == "" || graphPath == "" {
		return nil, nil, false // no such path: the framework answers
	}
	// A declared parameter whose value does not convert to its type is the
	// framework's to refuse, as on every other path.
	for k, v := range req.Data {
		if schema, ok := b.proxyFields[k]; ok {
			fd := framework.FieldData{Raw: map[string]any{k: v}, Schema: map[string]*framework.FieldSchema{k: schema}}
			if _, _, err := fd.GetOkErr(k); err != nil {
				return nil, nil, false
			}
		}
	}
	d := &framework.FieldData{Raw: map[string]any{"name": name, "graph_path": graphPath}, Schema: b.proxyFields}
	a, err := b.accountFromPath(ctx, req.Storage, d)
	if err != nil {
		resp, err := respondErr(err)
		return resp, err, true
	}
	resp, err := b.proxyGraph(ctx, req, d, a, http.MethodGet)
	return resp, err, true
}
