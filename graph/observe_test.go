package graph_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	requests map[graph.Endpoint][]int // statuses by endpoint
	usage    map[string]float64       // "header/kind" -> percent
	problems []graph.AppProblem
}

func newRecorder() *recorder {
	return &recorder{requests: map[graph.Endpoint][]int{}, usage: map[string]float64{}}
}

func (r *recorder) Request(ep graph.Endpoint, took time.Duration, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took <= 0 {
		status = -1 // a duration must be measured
	}
	r.requests[ep] = append(r.requests[ep], status)
}

func (r *recorder) Usage(header, kind string, percent float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage[header+"/"+kind] = percent
}

func (r *recorder) AppProblem(p graph.AppProblem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, p)
}

// observedFixture is a fixture whose client reports to a recorder.
func observedFixture(t *testing.T) (*fixture, *recorder) {
	t.Helper()
	fx := newFixture(t, graphtest.Options{})
	rec := newRecorder()
	fx.client = graph.New(graph.Config{
		AppID:      fx.fake.AppID(),
		AppSecret:  fx.fake.AppSecret(),
		Endpoints:  fx.fake.Endpoints(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Observer:   rec,
	})
	return fx, rec
}

// TestObserverSeesEveryEndpoint: each client call, those golang.org/x/oauth2
// makes included, is reported once under its endpoint's name with Meta's
// status and a measured duration.
func TestObserverSeesEveryEndpoint(t *testing.T) {
	ctx := context.Background()
	fx, rec := observedFixture(t)
	c := fx.client
	ig := fx.fake.AddUser("shop")

	short, err := c.ExchangeCode(ctx, fx.fake.MintCode(ig.UserID, []string{"instagram_business_basic"}, redirectURI), redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	long, err := c.ExchangeForLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	fx.clock.Advance(25 * time.Hour)
	if _, err := c.Refresh(ctx, long.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx, long.AccessToken); err != nil {
		t.Fatal(err)
	}
	fb := fx.fake.AddUser("page_owner")
	user, err := c.FacebookExchangeCode(ctx, fx.fake.MintFacebookCode(fb.UserID, fbScopes, redirectURI), redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	fbLong, err := c.FacebookExchangeLongLived(ctx, user.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pages(ctx, fbLong.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DebugToken(ctx, fbLong.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppToken(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx, "IGAAnot-a-token"); err == nil {
		t.Fatal("a made-up token worked")
	}
	th := fx.fake.AddUser("threads_owner")
	thShort, err := c.ThreadsExchangeCode(ctx, fx.fake.MintThreadsCode(th.UserID, nil, redirectURI), redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	thLong, err := c.ThreadsExchangeForLongLived(ctx, thShort.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	fx.clock.Advance(25 * time.Hour)
	if _, err := c.ThreadsRefresh(ctx, thLong.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ThreadsMe(ctx, thLong.AccessToken); err != nil {
		t.Fatal(err)
	}

	for _, ep := range graph.AllEndpoints() {
		want := []int{http.StatusOK}
		if ep == graph.EndpointMe {
			want = []int{http.StatusOK, http.StatusBadRequest}
		}
		if got := rec.requests[ep]; len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("%s observed %v, want %v", ep, got, want)
		}
	}
	if got := rec.requests[graph.EndpointOther]; len(got) != 0 {
		t.Errorf("calls observed without an endpoint: %v", got)
	}
}

// TestObserverReadsUsageHeaders: X-App-Usage and X-Business-Use-Case-Usage
// are reported per header and figure, the latter as the highest across its
// business use cases; an answer without them reports none.
func TestObserverReadsUsageHeaders(t *testing.T) {
	ctx := context.Background()
	fx, rec := observedFixture(t)
	u := fx.fake.AddUser("shop")
	tok := fx.fake.MintLongLivedToken(u.UserID, nil, fx.clock.Now())
	if _, err := fx.client.Me(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if len(rec.usage) != 0 {
		t.Fatalf("usage reported without headers: %v", rec.usage)
	}
	f := graphtest.Throttled(80002, 5)
	f.Header.Set("X-Business-Use-Case-Usage",
		`{"1":[{"type":"instagram","call_count":40,"total_cputime":7,"total_time":9}],"2":[{"type":"instagram","call_count":12,"total_cputime":70,"total_time":3}]}`)
	fx.fake.Fail(graphtest.EndpointMe, 1, f)
	_, _ = fx.client.Me(ctx, tok)
	want := map[string]float64{
		"x-app-usage/call_count": 100, "x-app-usage/total_time": 34, "x-app-usage/total_cputime": 21,
		"x-business-use-case-usage/call_count": 40, "x-business-use-case-usage/total_cputime": 70, "x-business-use-case-usage/total_time": 9,
	}
	for k, v := range want {
		if rec.usage[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, rec.usage[k], v, rec.usage)
		}
	}
	if len(rec.problems) != 0 {
		t.Errorf("a business-use-case throttle (one account) reported as an app problem: %+v", rec.problems)
	}
}

// TestObserverReportsAppProblemsRedacted: an app-level answer is reported
// with its kind, and a token Meta quoted in it is redacted.
func TestObserverReportsAppProblemsRedacted(t *testing.T) {
	ctx := context.Background()
	fx, rec := observedFixture(t)
	u := fx.fake.AddUser("shop")
	tok := fx.fake.MintLongLivedToken(u.UserID, nil, fx.clock.Now())
	fx.fake.Fail(graphtest.EndpointMe, 1, graphtest.GraphError(190, 0, "OAuthException",
		"Error validating application. Application has been deleted. ("+tok+")"))
	_, err := fx.client.Me(ctx, tok)
	if p, ok := graph.AppProblemOf(err); !ok || p.Kind != graph.AppDeactivated {
		t.Fatalf("AppProblemOf(%v) = %+v, %v", err, p, ok)
	}
	if len(rec.problems) != 1 || rec.problems[0].Kind != graph.AppDeactivated || rec.problems[0].Code != 190 {
		t.Fatalf("observed %+v", rec.problems)
	}
	if msg := rec.problems[0].Message; strings.Contains(msg, tok) || !strings.Contains(msg, "[redacted]") {
		t.Fatalf("the observed message is not redacted: %q", msg)
	}

	fx.fake.SetAppProblem(graph.AppThrottled)
	_, _ = fx.client.Refresh(ctx, tok)
	if got := rec.problems[len(rec.problems)-1]; got.Kind != graph.AppThrottled || got.RetryAfter != time.Hour {
		t.Fatalf("throttle observed as %+v", got)
	}
}
