package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/testclock"
)

// TestPassthroughListsAndPublishesMedia is the proxy's Graph side against
// the fake: a GET with the account's token and proof lists media (and
// Meta's paging link carries the token, which is why the engine rewrites
// it), and a container POSTed then published appears in the list.
func TestPassthroughListsAndPublishesMedia(t *testing.T) {
	f := newFixture(t, graphtest.Options{RequireAppSecretProof: true})
	u := f.fake.AddUser("shop")
	for i := 0; i < 3; i++ {
		f.fake.AddMedia(u.UserID, "post")
	}
	tok := f.fake.MintLongLivedToken(u.UserID, []string{"instagram_business_basic", "instagram_business_content_publish"}, f.clock.Now())
	ep := f.client.Endpoints()
	ctx := context.Background()

	list, err := f.client.Passthrough(ctx, graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodGet, Path: "me/media",
		Params: url.Values{"fields": {"id,caption"}, "limit": {"2"}}, Token: tok,
	})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Data   []map[string]any
		Paging struct{ Next string }
	}
	if err := json.Unmarshal(list.Body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || !strings.Contains(page.Paging.Next, tok) {
		t.Fatalf("page = %+v; want two posts and Meta's next link (with the token)", page)
	}

	made, err := f.client.Passthrough(ctx, graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodPost, Path: u.UserID + "/media",
		Params: url.Values{"image_url": {"https://example.com/a.jpg"}, "caption": {"new"}}, Token: tok,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ctr struct{ ID string }
	_ = json.Unmarshal(made.Body, &ctr)
	if _, err := f.client.Passthrough(ctx, graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodPost, Path: u.UserID + "/media_publish",
		Params: url.Values{"creation_id": {ctr.ID}}, Token: tok,
	}); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.MediaOf(u.UserID); len(got) != 4 || got[0].Caption != "new" {
		t.Fatalf("after publishing, media = %+v", got)
	}
	// A container publishes once.
	_, err = f.client.Passthrough(ctx, graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodPost, Path: u.UserID + "/media_publish",
		Params: url.Values{"creation_id": {ctr.ID}}, Token: tok,
	})
	if e := asError(t, err); e.Code != 9007 {
		t.Fatalf("second publish: %v", err)
	}
}

// TestPassthroughErrorsAreMetasAndHoldNoSecret: a dead token's 190 comes
// back as a *graph.Error with Meta's status, code and subcode, classified
// as needing re-authorization, and the error names neither the token nor
// the proof.
func TestPassthroughErrorsAreMetasAndHoldNoSecret(t *testing.T) {
	f := newFixture(t, graphtest.Options{})
	u := f.fake.AddUser("shop")
	tok := f.fake.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, f.clock.Now())
	f.fake.Revoke(tok)
	ep := f.client.Endpoints()
	_, err := f.client.Passthrough(context.Background(), graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodGet, Path: "me/media", Token: tok,
	})
	e := asError(t, err)
	if e.HTTPStatus != http.StatusBadRequest || e.Code != 190 || graph.Classify(err) != graph.ClassReauth {
		t.Fatalf("err = %#v", e)
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), graph.AppSecretProof(f.fake.AppSecret(), tok)) {
		t.Fatalf("error holds a secret: %v", err)
	}
	// Without publishing permission, Meta's 403 code 10.
	tok2 := f.fake.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, f.clock.Now())
	_, err = f.client.Passthrough(context.Background(), graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodPost, Path: "me/media",
		Params: url.Values{"image_url": {"https://example.com/a.jpg"}}, Token: tok2,
	})
	if e := asError(t, err); e.HTTPStatus != http.StatusForbidden || e.Code != 10 {
		t.Fatalf("publish without the scope: %#v", e)
	}
}

// TestPassthroughRefusesOversizeAnswers: an answer past the client's bound
// is ErrResponseTooLarge, not a truncated body.
func TestPassthroughRefusesOversizeAnswers(t *testing.T) {
	clock := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := graphtest.New(graphtest.Options{Now: clock.Now})
	t.Cleanup(fake.Close)
	c := graph.New(graph.Config{AppID: fake.AppID(), AppSecret: fake.AppSecret(), Endpoints: fake.Endpoints(), MaxResponseBytes: 4096})
	u := fake.AddUser("shop")
	fake.AddMedia(u.UserID, strings.Repeat("x", 8192))
	tok := fake.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, clock.Now())
	ep := c.Endpoints()
	_, err := c.Passthrough(context.Background(), graph.PassthroughCall{
		GraphBase: ep.GraphBaseURL, Version: ep.Version, Method: http.MethodGet, Path: "me/media",
		Params: url.Values{"fields": {"caption"}}, Token: tok,
	})
	if !errors.Is(err, graph.ErrResponseTooLarge) {
		t.Fatalf("err = %v; want ErrResponseTooLarge", err)
	}
	for _, m := range []string{http.MethodDelete, http.MethodPut} {
		if _, err := c.Passthrough(context.Background(), graph.PassthroughCall{GraphBase: ep.GraphBaseURL, Method: m, Path: "me", Token: tok}); err == nil {
			t.Errorf("%s was passed through", m)
		}
	}
}
