package graph

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   *Error // nil: no error
	}{
		{"graph shape", 400, nil,
			`{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbC","is_transient":false}}`,
			&Error{HTTPStatus: 400, Code: 190, Subcode: 463, Type: "OAuthException", Message: "Error validating access token: Session has expired", FBTraceID: "AbC"}},
		{"IGApiException", 400, nil,
			`{"error":{"code":100,"message":"Unsupported request - method type: get","type":"IGApiException"}}`,
			&Error{HTTPStatus: 400, Code: 100, Type: "IGApiException", Message: "Unsupported request - method type: get"}},
		{"flat shape", 400, nil,
			`{"error_type":"OAuthException","code":400,"error_message":"This authorization code has been used"}`,
			&Error{HTTPStatus: 400, Code: 400, Type: "OAuthException", Message: "This authorization code has been used"}},
		{"flat shape without type", 400, nil, `{"code":400,"error_message":"Invalid platform app"}`,
			&Error{HTTPStatus: 400, Code: 400, Message: "Invalid platform app"}},
		{"OAuth 2.0 shape", 400, nil, `{"error":"invalid_request","error_description":"Missing code"}`,
			&Error{HTTPStatus: 400, Type: "invalid_request", Message: "Missing code"}},
		{"codes as strings, transient as string", 500, nil, `{"error":{"code":"2","error_subcode":"0","is_transient":"true","message":"Service temporarily unavailable"}}`,
			&Error{HTTPStatus: 500, Code: 2, IsTransient: true, Message: "Service temporarily unavailable"}},
		{"odd code does not lose the message", 400, nil, `{"error":{"code":{"x":1},"message":"m","type":"T"}}`,
			&Error{HTTPStatus: 400, Type: "T", Message: "m"}},
		{"trace id from header", 400, http.Header{"X-Fb-Trace-Id": {"HdrTrace"}}, `{"error":{"code":1,"message":"x"}}`,
			&Error{HTTPStatus: 400, Code: 1, Message: "x", FBTraceID: "HdrTrace"}},
		{"HTML 502", 502, nil, `<html>Bad Gateway</html>`, &Error{HTTPStatus: 502}},
		{"empty 503", 503, nil, ``, &Error{HTTPStatus: 503}},
		{"error object in a 200", 200, nil, `{"error":{"code":190,"message":"x"}}`, &Error{HTTPStatus: 200, Code: 190, Message: "x"}},
		{"success", 200, nil, `{"access_token":"x"}`, nil},
		{"error key written with escapes", 200, nil, `{"\u0065rror":{"code":190,"message":"x"}}`, &Error{HTTPStatus: 200, Code: 190, Message: "x"}},
		{"flat key written with escapes", 400, nil, `{"code":400,"error\u005fmessage":"m"}`, &Error{HTTPStatus: 400, Code: 400, Message: "m"}},
		{"success with escaped slashes", 200, nil, `{"media_url":"https:\/\/cdn.example\/a.jpg"}`, nil},
		{"success with null error", 200, nil, `{"access_token":"x","error":null}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := parseError(tt.status, h, []byte(tt.body), nil)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want nil", got)
				}
				return
			}
			if got == nil || *got != *tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Code: 190, Subcode: 463, Type: "OAuthException", Message: "expired"}, "instagram: OAuthException (code 190, subcode 463): expired"},
		{Error{Code: 400, Type: "OAuthException", Message: "Invalid platform app"}, "instagram: OAuthException (code 400): Invalid platform app"},
		{Error{Code: 100, Message: "m"}, "instagram: error (code 100): m"},
		{Error{HTTPStatus: 502}, "instagram: HTTP 502 Bad Gateway"},
		{Error{HTTPStatus: 599}, "instagram: HTTP 599"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestParseErrorRedactsSecrets(t *testing.T) {
	secrets := []string{"s3cr3t+/=", "IGAAtoken", "AQBcode#_", "AQBcode"}
	body := `{"error":{"message":"bad token IGAAtoken for secret s3cr3t+/= (escaped s3cr3t%2B%2F%3D), code AQBcode#_ and AQBcode","type":"OAuthException IGAAtoken","code":190,"fbtrace_id":"IGAAtoken"}}`
	e := parseError(400, http.Header{}, []byte(body), secrets)
	for _, s := range []string{"IGAAtoken", "s3cr3t", "AQBcode"} {
		for field, v := range map[string]string{"Error()": e.Error(), "Message": e.Message, "Type": e.Type, "FBTraceID": e.FBTraceID} {
			if strings.Contains(v, s) {
				t.Errorf("%s leaks %q: %s", field, s, v)
			}
		}
	}
	if !strings.Contains(e.Message, "bad token [redacted] for secret [redacted]") {
		t.Errorf("message lost its shape: %s", e.Message)
	}
	// An empty secret must not blow up the message.
	if got := Redact("abc", ""); got != "abc" {
		t.Errorf("redact with empty secret = %q", got)
	}
}

func TestUsageAndRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("X-App-Usage", `{"call_count":28,"total_time":25,"total_cputime":25}`)
	h.Set("X-Business-Use-Case-Usage", `{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":12,"total_time":40,"estimated_time_to_regain_access":7}],"2":[{"type":"pages","call_count":"3","total_cputime":60}]}`)
	e := parseError(400, h, []byte(`{"error":{"code":80002,"message":"too many calls","type":"IGApiException"}}`), nil)
	want := Usage{CallCount: 100, TotalTime: 40, TotalCPUTime: 60, RegainAccess: 7 * time.Minute}
	if e.Usage == nil || *e.Usage != want {
		t.Fatalf("usage = %+v, want %+v", e.Usage, want)
	}
	if e.RetryAfter != 7*time.Minute || Classify(e) != ClassThrottled {
		t.Fatalf("RetryAfter = %v, class %v", e.RetryAfter, Classify(e))
	}

	h = http.Header{"Retry-After": {"30"}, "X-App-Usage": {"not json"}}
	e = parseError(503, h, nil, nil)
	if e.RetryAfter != 30*time.Second || e.Usage != nil {
		t.Fatalf("RetryAfter = %v, usage %+v", e.RetryAfter, e.Usage)
	}
	h = http.Header{"X-Business-Use-Case-Usage": {`{"1":[{"estimated_time_to_regain_access":99999999999}]}`}}
	if u := parseUsage(h); u == nil || u.RegainAccess != maxRegainMinutes*time.Minute {
		t.Fatalf("unclamped regain: %+v", u)
	}
	if parseError(400, http.Header{}, []byte(`{"error":{"code":4}}`), nil).Usage != nil {
		t.Fatal("usage without headers should be nil")
	}
}
