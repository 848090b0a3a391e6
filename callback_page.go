package instagram

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/hashicorp/vault/sdk/logical"
)

// maxReflectedLength bounds what the page repeats of Meta's denial text.
const maxReflectedLength = 300

// callbackPage is what the account owner's browser shows after Instagram
// sends it back. It is self-contained (no script, image or link that could
// carry the callback URL, code and state included, to anyone in a Referer)
// and html/template escapes everything put into it.
var callbackPage = template.Must(template.New("callback").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#fafafa;color:#262626}
main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;border:1px solid #dbdbdb;border-radius:8px}
h1{font-size:1.3rem;margin-top:0}
.ok h1{color:#1a7f37}.refused h1{color:#b42318}
.detail{background:#f4f4f4;padding:.6rem .8rem;border-radius:4px;overflow-wrap:anywhere}
.hint{color:#737373;font-size:.9rem}
</style>
</head>
<body>
<main class="{{.Class}}">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{range .Details}}<p class="detail">{{.}}</p>
{{end}}{{if .Hint}}<p class="hint">{{.Hint}}</p>
{{end}}</main>
</body>
</html>
`))

// pageContent is one outcome of the callback.
type pageContent struct {
	Status  int
	Class   string // ok or refused
	Title   string
	Message string
	Details []string
	Hint    string
}

const retryHint = "Ask your Vault operator for a new authorization link and open it again."

func refusedPage(status int, title, message string, details ...string) pageContent {
	return pageContent{Status: status, Class: "refused", Title: title, Message: message, Details: details, Hint: retryHint}
}

// response renders the page as a raw HTTP response. Vault sends raw bodies
// as they are, so the page must be complete; it must not be cached, since it
// answers a URL that carried a code.
func (p pageContent) response() (*logical.Response, error) {
	var buf bytes.Buffer
	if err := callbackPage.Execute(&buf, p); err != nil {
		return nil, err
	}
	status := p.Status
	if status == 0 {
		status = http.StatusOK
	}
	return &logical.Response{Data: map[string]any{
		logical.HTTPStatusCode:         status,
		logical.HTTPContentType:        "text/html; charset=utf-8",
		logical.HTTPRawBody:            buf.Bytes(),
		logical.HTTPCacheControlHeader: "no-store",
		logical.HTTPPragmaHeader:       "no-cache",
	}}, nil
}
