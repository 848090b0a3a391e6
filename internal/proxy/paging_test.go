package proxy

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const testToken = "IGQVJtokenvalue123"

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRewriteTurnsPagingLinksIntoProxyPaths(t *testing.T) {
	l := Links{GraphBase: "http://127.0.0.1:9/graph.instagram.com", Prefix: "instagram/proxy/shop/"}
	v := decode(t, `{
	  "data": [{"id": "1", "comments": {"data": [], "paging": {"next": "http://127.0.0.1:9/graph.instagram.com/v25.0/1/comments?access_token=`+testToken+`&appsecret_proof=abc&after=QVFI"}}}],
	  "paging": {
	    "cursors": {"before": "QVFIb", "after": "QVFIa"},
	    "next": "http://127.0.0.1:9/graph.instagram.com/v25.0/17841400000/media?access_token=`+testToken+`&limit=25&after=QVFIa",
	    "previous": "https://evil.example/v25.0/me/media?access_token=`+testToken+`"
	  }
	}`)
	r, d := l.Rewrite(v)
	if r != 2 || d != 1 {
		t.Fatalf("rewritten %d, dropped %d; want 2, 1", r, d)
	}
	paging := v.(map[string]any)["paging"].(map[string]any)
	next, _ := paging["next"].(string)
	if !strings.HasPrefix(next, "instagram/proxy/shop/17841400000/media?") {
		t.Fatalf("next = %q", next)
	}
	q, _ := url.ParseQuery(next[strings.IndexByte(next, '?')+1:])
	if q.Get("after") != "QVFIa" || q.Get("limit") != "25" || q.Has("access_token") {
		t.Errorf("next's query = %v", q)
	}
	if _, ok := paging["previous"]; ok {
		t.Error("a link to another host was kept")
	}
	if _, ok := paging["cursors"]; !ok {
		t.Error("the cursors were dropped")
	}
	nested := v.(map[string]any)["data"].([]any)[0].(map[string]any)["comments"].(map[string]any)["paging"].(map[string]any)["next"]
	if nested != "instagram/proxy/shop/1/comments?after=QVFI" {
		t.Errorf("nested next = %v", nested)
	}
	out, _ := json.Marshal(v)
	if Holds(out, testToken) {
		t.Errorf("the rewritten answer still holds the token: %s", out)
	}
}

func TestRewriteDropsLinksTheProxyWouldRefuse(t *testing.T) {
	l := Links{GraphBase: "https://graph.instagram.com", Prefix: "instagram/proxy/shop/"}
	for _, link := range []string{
		"https://graph.instagram.com/v25.0/../token?access_token=x",
		"https://graph.instagram.com/v25.0/me?ids=1,2",
		"https://graph.instagram.com/v25.0/me?method=delete",
		"http://graph.instagram.com/v25.0/me",
		"https://user@graph.instagram.com/v25.0/me",
		"not a url \x7f",
		"",
	} {
		v := map[string]any{"paging": map[string]any{"next": link}}
		if r, d := l.Rewrite(v); r != 0 || d != 1 {
			t.Errorf("%q: rewritten %d, dropped %d", link, r, d)
		}
	}
	v := map[string]any{"paging": map[string]any{"next": 42}}
	if _, d := l.Rewrite(v); d != 1 {
		t.Error("a non-string link was kept")
	}
}

func TestHoldsFindsEscapedForms(t *testing.T) {
	tok := "EAAB+token/with=chars"
	for _, body := range []string{tok, url.QueryEscape(tok), url.PathEscape(tok)} {
		if !Holds([]byte(`{"x":"`+body+`"}`), tok) {
			t.Errorf("missed %q", body)
		}
	}
	if Holds([]byte(`{"x":"clean"}`), tok, "") {
		t.Error("false positive")
	}
	if Holds(bytes.Repeat([]byte("a"), 10), "") {
		t.Error("the empty secret matched")
	}
}
