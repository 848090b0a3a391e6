package instagram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/proxy"
)

// The Graph pass-through: an application calls Graph through the engine
// and never holds the account's token. The rules that need no Vault (which
// paths and parameters, the metrics family, the paging links) are
// internal/proxy's; this file is what the engine knows besides: which
// token and host an account uses, the app pause, and what Meta's errors
// mean for the account.

// maxProxyErrorMessage bounds Meta's message in a proxied error answer.
const maxProxyErrorMessage = 1024

// proxyGraph answers one proxied call of method (GET or POST) for the
// registered account a.
func (b *backend) proxyGraph(ctx context.Context, req *logical.Request, d *framework.FieldData, a *account, method string) (*logical.Response, error) {
	name := a.Name
	path, err := proxy.CleanPath(d.Get("graph_path").(string))
	if err != nil {
		return respondErr(badField("graph_path", "%s", strings.TrimPrefix(err.Error(), proxy.ErrBadPath.Error()+": ")+" (a Graph path such as me/media)"))
	}
	params, err := proxyParams(req.Data)
	if err == nil {
		err = proxy.CheckParams(params)
	}
	var pe *proxy.ParamError
	if errors.As(err, &pe) {
		return respondErr(badField(pe.Field, "%s", pe.Reason))
	} else if err != nil {
		return respondErr(err)
	}
	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	now := b.clock.Now()
	if err := unusableAccount(a, now); err != nil {
		return respondErr(err)
	}
	if until, why := b.appPaused(now); !until.IsZero() {
		return proxyRefusal(http.StatusTooManyRequests, "Meta has paused calls from this app until "+formatTime(until)+": "+why, until.Sub(now), nil)
	}

	call := graph.PassthroughCall{GraphBase: a.login().graphHost(cfg, a), Version: a.login().graphVersion(meta), Method: method, Path: path, Params: params, Token: a.AccessToken}
	start := time.Now()
	ans, err := meta.Passthrough(ctx, call)
	b.metrics.proxy.observe(name, proxy.Family(path), proxyOutcome(ans, err), time.Since(start))
	if err != nil {
		return b.proxyFailure(ctx, req.Storage, a, call, err, cfg.AppSecret)
	}
	data, err := decodeGraphAnswer(ans.Body)
	if err != nil {
		return proxyRefusal(http.StatusBadGateway, "Graph's answer to "+method+" "+path+" was not JSON", 0, nil)
	}
	proxy.Links{GraphBase: call.GraphBase, Prefix: req.MountPoint + proxyPathPrefix + name + "/"}.Rewrite(data)
	// The last word: whatever the rewrite did not know about (an echo of
	// the request, a link under another key), an answer holding a secret
	// does not leave the engine.
	out, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	if proxy.Holds(out, a.AccessToken, a.UserAccessToken, cfg.AppSecret, ans.Proof) {
		b.Logger().Warn("Graph's answer through the proxy held the account's token or the app secret: refused", "account", name, "family", proxy.Family(path))
		return proxyRefusal(http.StatusBadGateway, "Graph's answer held the account's token and was refused", 0, nil)
	}
	return &logical.Response{Data: data}, nil
}

// passthroughClient is the part of the graph client the proxy calls.
type passthroughClient interface {
	Passthrough(ctx context.Context, call graph.PassthroughCall) (*graph.PassthroughAnswer, error)
	Endpoints() graph.Endpoints
}

// unusableAccount is the error token/<name> answers for an account whose
// token cannot be used, nil for one that can; the proxy answers the same.
func unusableAccount(a *account, now time.Time) error {
	switch {
	case a.Status == statusNeedsReauth || a.AccessToken == "":
		return accountUnusable(a.Name, "needs re-authorization", a.LastError)
	case a.expired(now):
		return accountUnusable(a.Name, "token expired at "+formatTime(a.ExpiresAt)+"; re-authorize it", a.LastError)
	}
	return nil
}

// reservedAnswerKeys are response data keys with which Vault turns a
// plugin's answer into a raw HTTP response of the plugin's choosing: a Graph
// answer holding one must not become a page on Vault's origin.
var reservedAnswerKeys = []string{
	logical.HTTPStatusCode, logical.HTTPRawBody, logical.HTTPContentType,
	logical.HTTPCacheControlHeader, logical.HTTPPragmaHeader, logical.HTTPWWWAuthenticateHeader,
}

// decodeGraphAnswer decodes Graph's JSON answer as response data, numbers
// kept exact (ids above 2^53). Graph answers objects; anything else
// (a bare true from an old endpoint) comes back as {"value": ...}.
func decodeGraphAnswer(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return map[string]any{"value": v}, nil
	}
	for _, k := range reservedAnswerKeys {
		if _, ok := obj[k]; ok {
			return nil, fmt.Errorf("answer holds the key %s, which Vault reserves", k)
		}
	}
	return obj, nil
}

// proxyParams turns the request's data (a read's query parameters, an
// update's fields) into Graph's form values: strings as they are, numbers
// and booleans as Graph writes them, lists as repeated values, and objects
// as JSON (Graph takes JSON for structured parameters such as
// children or user_tags).
func proxyParams(data map[string]any) (url.Values, error) {
	params := url.Values{}
	for k, v := range data {
		switch t := v.(type) {
		case []string:
			params[k] = append([]string(nil), t...)
		case []any:
			for _, e := range t {
				s, err := proxyValue(k, e)
				if err != nil {
					return nil, err
				}
				params.Add(k, s)
			}
		default:
			s, err := proxyValue(k, v)
			if err != nil {
				return nil, err
			}
			params.Set(k, s)
		}
	}
	return params, nil
}

func proxyValue(field string, v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case json.Number:
		return t.String(), nil
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return strconv.FormatInt(int64(t), 10), nil
		}
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case nil:
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", badField(field, "cannot be passed to Graph")
	}
	return string(b), nil
}

// proxyFailure answers a failed proxied call. Meta's own errors come back
// with Meta's HTTP status, code and subcode (and Retry-After when Meta
// gave one); a token Meta refuses for good marks the account
// needs_reauth, as a refresh or a health check would, so token/<name> and
// the proxy stop using it and status shows it. Failures to reach Meta are
// 502s (504 for a timeout).
func (b *backend) proxyFailure(ctx context.Context, s logical.Storage, a *account, call graph.PassthroughCall, err error, appSecret string) (*logical.Response, error) {
	var ge *graph.Error
	if errors.As(err, &ge) {
		msg := boundMessage(graph.Redact(err.Error(), call.Token, appSecret))
		if graph.Classify(err) == graph.ClassReauth {
			b.proxyMarkNeedsReauth(ctx, s, a.Name, call, err, msg)
		}
		status := ge.HTTPStatus
		if status < 400 || status > 599 {
			status = http.StatusBadGateway
		}
		return proxyRefusal(status, msg, ge.RetryAfter, ge)
	}
	switch {
	case errors.Is(err, graph.ErrResponseTooLarge):
		return proxyRefusal(http.StatusBadGateway, "Graph's answer is larger than the engine passes on; ask for fewer fields or a smaller page (limit=)", 0, nil)
	case errors.Is(err, context.DeadlineExceeded):
		return proxyRefusal(http.StatusGatewayTimeout, "Graph did not answer in time", 0, nil)
	}
	return proxyRefusal(http.StatusBadGateway, boundMessage(graph.Redact(err.Error(), call.Token, appSecret)), 0, nil)
}

// proxyMarkNeedsReauth records that Meta refused the account's token on a
// proxied call, unless the token changed meanwhile (a refresh or a new
// authorization replaced it: the refusal was of the old one). The save
// finishes even if the caller has gone: Meta's verdict is worth keeping.
func (b *backend) proxyMarkNeedsReauth(ctx context.Context, s logical.Storage, name string, call graph.PassthroughCall, err error, msg string) {
	if !b.WriteSafeReplicationState() {
		// A performance standby or secondary served the read and cannot
		// write: the active node's next check of the account finds the
		// same verdict.
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, uerr := b.updateAccount(ctx, s, name, func(stored *account) (*account, error) {
		if stored == nil || stored.AccessToken != call.Token || stored.Status == statusNeedsReauth {
			return stored, nil
		}
		next := stored.clone()
		step := "Graph call through the proxy (" + call.Method + " " + proxy.Family(call.Path) + ")"
		why := step + " failed: " + msg + "; the owner must authorize again (auth-url)"
		if sessionEndedIn(err) {
			why = sessionEndedMessage(step)
		}
		next.markNeedsReauth(b.clock.Now(), why)
		return next, nil
	})
	if uerr != nil {
		b.Logger().Error("could not record that Meta refused the account's token", "account", name, "error", uerr)
	}
}

// proxyRefusal is a proxied call's error answer: Vault's {"errors": [...]}
// with the status given, Meta's error object beside it when there is one,
// and Retry-After when known.
func proxyRefusal(status int, msg string, retryAfter time.Duration, ge *graph.Error) (*logical.Response, error) {
	body := map[string]any{"errors": []string{msg}}
	// Vault passes a plugin's response headers on only where the mount
	// allows them (allowed_response_headers), so the wait is in the body
	// too.
	secs := int64(math.Ceil(retryAfter.Seconds()))
	if retryAfter > 0 {
		body["retry_after"] = secs
	}
	if ge != nil {
		body["graph_error"] = map[string]any{
			"code": ge.Code, "error_subcode": ge.Subcode, "type": ge.Type,
			"message": boundMessage(ge.Message), "fbtrace_id": ge.FBTraceID,
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp := &logical.Response{Data: map[string]any{
		logical.HTTPStatusCode:  status,
		logical.HTTPContentType: "application/json",
		logical.HTTPRawBody:     raw,
	}}
	if retryAfter > 0 {
		resp.Headers = map[string][]string{"Retry-After": {strconv.FormatInt(secs, 10)}}
	}
	return resp, nil
}

// boundMessage cuts text Meta sent to maxProxyErrorMessage bytes, on a
// rune boundary, as every other text the engine keeps of Meta's is cut.
func boundMessage(s string) string { return graph.CutText(s, maxProxyErrorMessage) }

// proxyOutcome is a proxied call's metrics outcome.
func proxyOutcome(ans *graph.PassthroughAnswer, err error) string {
	var ge *graph.Error
	switch {
	case err == nil && ans != nil:
		return "2xx"
	case errors.As(err, &ge) && ge.HTTPStatus >= 500:
		return "5xx"
	case errors.As(err, &ge):
		return "4xx"
	}
	return "error"
}
