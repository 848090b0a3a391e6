package proxy

import (
	"fmt"
	"sort"
	"strings"
)

// Bounds on what a caller may send through the proxy. A caption is at most
// 2,200 characters and a carousel names at most ten children, so these are
// generous for real use while keeping one request's cost small.
const (
	MaxParams     = 64
	MaxParamBytes = 16 << 10
	MaxTotalBytes = 64 << 10
)

// refusedParams are parameters no caller may set, each because it would
// let a request do more than its Vault path says:
//   - access_token, appsecret_proof: the engine sends the account's own;
//     a caller's would make the engine a relay for foreign tokens;
//   - method: Graph's HTTP method override turns a GET, which a read policy
//     allows, into a POST or DELETE, which it does not;
//   - ids: a multi-ID request reads objects the path does not name;
//   - batch, include_headers: a batch carries further requests of its own;
//   - callback: JSONP wraps the answer in caller-chosen code;
//   - suppress_http_code: hides Meta's error status, which the engine acts on.
//
// Meta is also retiring the last four from Graph itself (v26 to v28).
var refusedParams = map[string]string{
	"access_token":       "the engine sends the account's token itself",
	"appsecret_proof":    "the engine sends the proof for the account's token itself",
	"appsecret_time":     "the engine sends the proof for the account's token itself",
	"method":             "an HTTP method override would escape the policy's capabilities",
	"ids":                "a multi-ID request would reach objects the path does not name",
	"batch":              "a batch request carries requests the path does not name",
	"include_headers":    "only used by batch requests",
	"callback":           "JSONP is not served",
	"suppress_http_code": "Meta's HTTP status is needed to act on its errors",
}

// ParamError is a refused parameter: Field names it (never its value).
type ParamError struct {
	Field  string
	Reason string
}

func (e *ParamError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// CheckParams checks the names and sizes of the parameters a caller passes
// through. Names are compared case-insensitively: Graph's own parsing is
// not something to bet a policy on.
func CheckParams(params map[string][]string) error {
	if len(params) > MaxParams {
		return &ParamError{Field: "parameters", Reason: fmt.Sprintf("at most %d may be passed", MaxParams)}
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names) // the first refusal is the same on every try
	total := 0
	for _, k := range names {
		if why, ok := refusedParams[strings.ToLower(strings.TrimSpace(k))]; ok {
			return &ParamError{Field: k, Reason: "may not be passed through the proxy: " + why}
		}
		if k == "" || len(k) > 100 || strings.ContainsAny(k, "&=#\x00") {
			return &ParamError{Field: "parameters", Reason: "a parameter name is empty, too long or holds '&', '=' or '#'"}
		}
		for _, v := range params[k] {
			if len(v) > MaxParamBytes {
				return &ParamError{Field: k, Reason: fmt.Sprintf("longer than %d bytes", MaxParamBytes)}
			}
			total += len(k) + len(v)
		}
	}
	if total > MaxTotalBytes {
		return &ParamError{Field: "parameters", Reason: fmt.Sprintf("more than %d bytes in all", MaxTotalBytes)}
	}
	return nil
}
