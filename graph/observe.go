package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Endpoint names one of Meta's endpoints the client calls, as metrics label
// it: a fixed, small set (never a URL, which could carry a token).
type Endpoint string

const (
	EndpointExchangeCode         Endpoint = "exchange_code"
	EndpointExchangeLongLived    Endpoint = "exchange_long_lived"
	EndpointRefresh              Endpoint = "refresh"
	EndpointMe                   Endpoint = "me"
	EndpointFacebookExchangeCode Endpoint = "facebook_exchange_code"
	EndpointFacebookLongLived    Endpoint = "facebook_exchange_long_lived"
	EndpointPages                Endpoint = "pages"
	EndpointDebugToken           Endpoint = "debug_token"
	EndpointAppToken             Endpoint = "app_token"
	// Threads (threads_login.go).
	EndpointThreadsExchangeCode Endpoint = "threads_exchange_code"
	EndpointThreadsLongLived    Endpoint = "threads_exchange_long_lived"
	EndpointThreadsRefresh      Endpoint = "threads_refresh"
	EndpointThreadsMe           Endpoint = "threads_me"
	// EndpointOther is a call made without an endpoint in its context,
	// which the client never does.
	EndpointOther Endpoint = "other"
)

// AllEndpoints lists every endpoint the client calls.
func AllEndpoints() []Endpoint {
	return []Endpoint{
		EndpointExchangeCode, EndpointExchangeLongLived, EndpointRefresh, EndpointMe,
		EndpointFacebookExchangeCode, EndpointFacebookLongLived, EndpointPages, EndpointDebugToken, EndpointAppToken,
		EndpointThreadsExchangeCode, EndpointThreadsLongLived, EndpointThreadsRefresh, EndpointThreadsMe,
	}
}

// Observer hears about every HTTP exchange the client has with Meta, for
// metrics and the app's health. It is called on the request's goroutine:
// implementations must be quick and safe for concurrent use. What it is
// given never holds a secret: endpoints are names, usage is figures, and an
// AppProblem's message is redacted like any error's.
type Observer interface {
	// Request is one call: its endpoint, how long it took (until the
	// whole body was read) and Meta's HTTP status, 0 when no answer came.
	Request(ep Endpoint, took time.Duration, status int)
	// Usage is one figure of one usage header Meta sent: header is
	// "x-app-usage", "x-page-usage" or "x-business-use-case-usage" (the
	// highest figure across its business use cases), kind "call_count",
	// "total_time" or "total_cputime", percent of the limit (100:
	// throttled).
	Usage(header, kind string, percent float64)
	// AppProblem is an answer that concerns the whole app rather than the
	// token it was sent with (AppProblemOf).
	AppProblem(p AppProblem)
}

type endpointKey struct{}

// withEndpoint marks ctx's calls as calls to ep, which the transport reads
// back: it sees the calls golang.org/x/oauth2 makes too, which fetch does not.
func withEndpoint(ctx context.Context, ep Endpoint) context.Context {
	return context.WithValue(ctx, endpointKey{}, ep)
}

func endpointOf(ctx context.Context) Endpoint {
	if ep, ok := ctx.Value(endpointKey{}).(Endpoint); ok {
		return ep
	}
	return EndpointOther
}

// observe reports one exchange to o: its duration and status, the usage
// headers, and an app-level problem its body carries. resp is nil when no
// answer came.
func observe(o Observer, req *http.Request, took time.Duration, resp *http.Response, body []byte, appSecret string) {
	ep := endpointOf(req.Context())
	if resp == nil {
		o.Request(ep, took, 0)
		return
	}
	o.Request(ep, took, resp.StatusCode)
	for header, figs := range usageByHeader(resp.Header) {
		o.Usage(header, "call_count", float64(figs.CallCount))
		o.Usage(header, "total_time", float64(figs.TotalTime))
		o.Usage(header, "total_cputime", float64(figs.TotalCPUTime))
	}
	if e := errorFromBody(resp.StatusCode, body); e != nil {
		e.Usage = parseUsage(resp.Header)
		e.RetryAfter = retryAfter(resp.Header, e.Usage)
		e.scrub(append(requestSecrets(req), appSecret))
		if p, ok := AppProblemOf(e); ok {
			p.Endpoint = ep
			o.AppProblem(p)
		}
	}
}

// secretParams are the query parameters that carry a secret.
var secretParams = []string{"access_token", "input_token", "client_secret", "fb_exchange_token", "code", "appsecret_proof"}

// requestSecrets are the secret values a request's query carries, for
// redaction (form bodies, used by the code exchanges, are not re-read:
// the app secret, the one secret they share with every call, is redacted
// by the transport, and Meta's app-level errors quote no code).
func requestSecrets(req *http.Request) []string {
	var out []string
	q := req.URL.Query()
	for _, k := range secretParams {
		out = append(out, q[k]...)
	}
	return out
}

// usageByHeader reads each usage header Meta sent into its figures: for
// X-Business-Use-Case-Usage, the highest of each figure across the business
// use cases (their ids are accounts and businesses: not for labels).
func usageByHeader(h http.Header) map[string]usageFigures {
	out := map[string]usageFigures{}
	for _, name := range []string{"X-App-Usage", "X-Page-Usage"} {
		var f usageFigures
		if v := h.Get(name); v != "" && json.Unmarshal([]byte(v), &f) == nil {
			out[lowerHeader(name)] = f
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var byID map[string][]usageFigures
		if json.Unmarshal([]byte(v), &byID) == nil && len(byID) > 0 {
			var top usageFigures
			for _, list := range byID {
				for _, f := range list {
					top.CallCount = max(top.CallCount, f.CallCount)
					top.TotalTime = max(top.TotalTime, f.TotalTime)
					top.TotalCPUTime = max(top.TotalCPUTime, f.TotalCPUTime)
				}
			}
			out["x-business-use-case-usage"] = top
		}
	}
	return out
}

func lowerHeader(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
