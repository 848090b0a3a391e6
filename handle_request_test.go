package instagram

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// countingSystemView counts the replication-state look-ups the framework
// makes: in an external plugin each is a gRPC call back to Vault.
type countingSystemView struct {
	logical.SystemView
	calls atomic.Int64
}

func (c *countingSystemView) ReplicationState() consts.ReplicationState {
	c.calls.Add(1)
	return c.SystemView.ReplicationState()
}

// TestTokenReadFastPath: a plain token read answers exactly what the
// framework's route answers, without asking Vault for the replication state.
func TestTokenReadFastPath(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")

	sys := &countingSystemView{SystemView: logical.TestSystemView()}
	conf := logical.TestBackendConfig()
	conf.System = sys
	conf.StorageView = e.storage
	b := newBackend(backendOptions{clock: e.clock})
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	req := func() *logical.Request {
		return &logical.Request{Operation: logical.ReadOperation, Path: "token/shop", Storage: e.storage}
	}

	fast, err := b.HandleRequest(context.Background(), req())
	if err != nil {
		t.Fatal(err)
	}
	if n := sys.calls.Load(); n != 0 {
		t.Fatalf("the token read asked Vault for the replication state %d times", n)
	}
	routed, err := b.Backend.HandleRequest(context.Background(), req())
	if err != nil {
		t.Fatal(err)
	}
	if sys.calls.Load() == 0 {
		t.Fatal("the framework's route did not ask: this test no longer measures anything")
	}
	if !reflect.DeepEqual(fast.Data, routed.Data) || !reflect.DeepEqual(fast.Warnings, routed.Warnings) {
		t.Fatalf("fast path %v differs from the framework's %v", redactedData(fast), redactedData(routed))
	}

	// What the fast path does not take goes through the framework, checks
	// and all.
	for _, r := range []*logical.Request{
		{Operation: logical.ReadOperation, Path: "token/shop", Data: map[string]any{"x": 1}, Storage: e.storage},
		{Operation: logical.ReadOperation, Path: "token/../config", Storage: e.storage},
		{Operation: logical.HelpOperation, Path: "token/shop", Storage: e.storage},
	} {
		before := sys.calls.Load()
		resp, err := b.HandleRequest(context.Background(), r)
		if r.Operation != logical.HelpOperation && err == nil && (resp == nil || !resp.IsError()) {
			t.Fatalf("%s %v: want a refusal", r.Path, r.Data)
		}
		if r.Operation != logical.HelpOperation && sys.calls.Load() == before && r.Path == "token/shop" {
			t.Fatalf("%s with data skipped the framework", r.Path)
		}
	}
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "token/nobody", Storage: e.storage})
	e.mustBeUnregistered("token/nobody", "nobody", resp, err)
}

// finding4Paths are concrete requests on every path that has a sensitive
// field. TestFinding4 checks that every path of the backend with a
// sensitive field is reached by one of them, so a new path cannot be
// forgotten here.
var finding4Paths = []struct {
	op   logical.Operation
	path string
}{
	{logical.UpdateOperation, "config"},
	{logical.UpdateOperation, "accounts/shop"},     // exists: update
	{logical.UpdateOperation, "accounts/newcomer"}, // does not: create
	{logical.ReadOperation, "callback"},
	{logical.UpdateOperation, "callback"},
	{logical.UpdateOperation, "deauthorize"},
	{logical.UpdateOperation, "data-deletion"},
}

// TestFinding4MalformedSensitiveFieldIsRefusedQuietly: a sensitive field
// (the app secret, a token, a code, a state, a signed_request) sent as a
// list is refused naming the field and never quoting it, whatever other
// field is malformed alongside it, on every path that has one, from the
// existence check (whose error Vault logs) as from the request. The
// framework's own refusal quotes the value of the first malformed field it
// meets in map order, so each request is repeated enough times to meet
// every order.
func TestFinding4MalformedSensitiveFieldIsRefusedQuietly(t *testing.T) {
	const repeats = 40
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	secret := e.secret("S3CRET-" + strings.Repeat("q", 40))

	// Every backend path with a sensitive field is reached by finding4Paths.
	covered := map[*framework.Path]bool{}
	for _, c := range finding4Paths {
		p := e.b.Route(c.path)
		if p == nil {
			t.Fatalf("%s routes nowhere", c.path)
		}
		covered[p] = true
	}
	for _, p := range e.b.Paths {
		for name, f := range p.Fields {
			if isSensitive(f) && !covered[p] {
				t.Errorf("path %q has sensitive field %q but finding4Paths has no request on it", p.Pattern, name)
			}
		}
	}

	// malformed is a value no field type here converts from.
	malformed := func() any { return map[string]any{"not": []any{"a", "value"}} }
	for _, c := range finding4Paths {
		p := e.b.Route(c.path)
		var sensitive, others []string
		for name, f := range p.Fields {
			switch {
			case strings.Contains(p.Pattern, "(?P<"+name+">"):
			case isSensitive(f):
				sensitive = append(sensitive, name)
			default:
				others = append(others, name)
			}
		}
		// Each sensitive field with each other field malformed too (on
		// their own: the framework meets one of two first half the time),
		// with every field malformed, and alone with an unknown field.
		var cases []map[string]any
		for _, s := range sensitive {
			for _, o := range append(others, sensitive...) {
				if o != s {
					cases = append(cases, map[string]any{s: []any{secret, secret}, o: malformed()})
				}
			}
			all := map[string]any{"unknown_field": malformed()}
			for _, o := range others {
				all[o] = malformed()
			}
			all[s] = []any{secret, secret}
			cases = append(cases, all, map[string]any{s: []any{secret, secret}, "unknown_field": "x"})
		}
		for _, data := range cases {
			// The other fields are really malformed: the framework refuses them.
			for k := range data {
				if schema, ok := p.Fields[k]; ok {
					fd := framework.FieldData{Raw: map[string]any{k: data[k]}, Schema: map[string]*framework.FieldSchema{k: schema}}
					if _, _, err := fd.GetOkErr(k); err == nil {
						t.Fatalf("%s: %s is not malformed: this case tests nothing", c.path, k)
					}
				}
			}
			names := make([]string, 0, len(data))
			for k := range data {
				names = append(names, k)
			}
			for range repeats {
				before := e.storageSnapshot()
				req := &logical.Request{Operation: c.op, Path: c.path, Data: data, Storage: e.storage}
				found, exists, err := e.b.HandleExistenceCheck(context.Background(), req)
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Fatalf("%s %v: the existence check's error (which Vault logs) quotes the secret", c.path, names)
				}
				if err == nil && found && !exists {
					req.Operation = logical.CreateOperation
				}
				resp, err := e.b.HandleRequest(context.Background(), req)
				got := answerOf(t, resp, err)
				if got.status != http.StatusBadRequest {
					t.Fatalf("%s %s %v: status %d, want 400", c.op, c.path, names, got.status)
				}
				if strings.Contains(got.body, secret) || (resp != nil && strings.Contains(fmt.Sprint(resp.Data), secret)) {
					t.Fatalf("%s %s %v: the refusal quotes the secret", c.op, c.path, names)
				}
				if !refusalNamesSensitive(got.body, sensitive, data) {
					t.Fatalf("%s %s %v: the refusal %q names no malformed sensitive field", c.op, c.path, names, got.body)
				}
				if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
					t.Fatalf("%s %s %v: a refused request changed storage", c.op, c.path, names)
				}
			}
		}
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Fatal("the secret reached the plugin log")
	}
}

// refusalNamesSensitive reports whether msg names a sensitive field data
// holds.
func refusalNamesSensitive(msg string, sensitive []string, data map[string]any) bool {
	for _, s := range sensitive {
		if _, ok := data[s]; ok && strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
