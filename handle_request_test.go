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
// field. TestMalformedSensitiveFieldIsRefusedWithoutQuotingIt checks that every path of the backend with a
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

// TestMalformedSensitiveFieldIsRefusedWithoutQuotingIt: a sensitive field
// (the app secret, a token, a code, a state, a signed_request) sent as a
// list is refused naming the field and never quoting it, whatever other
// field is malformed alongside it, on every path that has one, from the
// existence check (whose error Vault logs) as from the request. The
// framework's own refusal quotes the value of the first malformed field it
// meets in map order, so each request is repeated enough times to meet
// every order.
func TestMalformedSensitiveFieldIsRefusedWithoutQuotingIt(t *testing.T) {
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

// frontDoorPaths are concrete requests on every path of the backend, one
// per path; TestFrontDoorPathsCoverEveryPath keeps the list whole.
var frontDoorPaths = []string{
	"accounts/",
	"accounts/shop",
	"accounts/shop/pages",
	"accounts/shop/refresh",
	"app-token",
	"auth-url",
	"callback",
	"config",
	"data-deletion",
	"data-deletion/" + strings.Repeat("0", 32),
	"deauthorize",
	"metrics",
	"metrics/accounts",
	"proxy/shop/me",
	"status",
	"token/shop",
}

// TestFrontDoorPathsCoverEveryPath: every path of the backend is reached by
// one of frontDoorPaths, and declares its operations the way
// guardOperations wraps them, so the tests below cover every operation.
func TestFrontDoorPathsCoverEveryPath(t *testing.T) {
	b := newBackend(backendOptions{})
	covered := map[*framework.Path]bool{}
	for _, path := range frontDoorPaths {
		p := b.Route(path)
		if p == nil {
			t.Fatalf("%s routes nowhere", path)
		}
		covered[p] = true
	}
	for _, p := range b.Paths {
		if !covered[p] {
			t.Errorf("path %q is reached by no request of frontDoorPaths", p.Pattern)
		}
		//lint:ignore SA1019 checking that the deprecated field stays unused
		if len(p.Callbacks) != 0 {
			t.Errorf("path %q uses Callbacks, which guardOperations does not wrap", p.Pattern)
		}
		for op, h := range p.Operations {
			if _, ok := h.(*framework.PathOperation); !ok {
				t.Errorf("path %q: %s is a %T, not a *framework.PathOperation", p.Pattern, op, h)
			}
		}
	}
}

// malformedValue is a value no field type of the backend converts from.
func malformedValue() any { return map[string]any{"not": []any{"a", "value"}} }

// TestFrameworkConvertsEveryFieldBeforeAnyHandler is why the engine no
// longer checks each field's type in its handlers (input_checks.go's checkFields
// did, in every operation, as did checkFieldsQuiet on the unauthenticated
// paths): the framework converts every field before it calls a handler and
// refuses the request when one does not convert, so that check could never
// refuse anything, and removing it changes no answer. A probe where it ran,
// around every operation's handler, sees every request that reaches a
// handler; each request here carries one field (then all fields) of a type
// it cannot convert to, and none may reach the probe. Should the SDK stop
// converting first, this fails.
func TestFrameworkConvertsEveryFieldBeforeAnyHandler(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	secret := e.secret("S3CRET-" + strings.Repeat("m", 40))

	reached := 0
	var leaked []string
	for _, p := range e.b.Paths {
		for op, h := range p.Operations {
			po := h.(*framework.PathOperation)
			next := po.Callback
			po.Callback = func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
				reached++
				for k := range d.Raw {
					if _, known := d.Schema[k]; !known {
						continue
					}
					if _, _, err := d.GetOkErr(k); err != nil {
						// What the deleted check answered; the
						// handler itself might panic.
						leaked = append(leaked, fmt.Sprintf("%s %s: %s", op, p.Pattern, k))
						return logical.ErrorResponse(k + ": does not convert"), nil
					}
				}
				return next(ctx, req, d)
			}
		}
	}
	// The probe sees what reaches a handler.
	e.mustOK(e.read("status"))
	if reached != 1 {
		t.Fatalf("the probe saw %d requests, want 1: this test measures nothing", reached)
	}

	requests := 0
	for _, path := range frontDoorPaths {
		p := e.b.Route(path)
		var fields []string
		for k := range p.Fields {
			if !strings.Contains(p.Pattern, "(?P<"+k+">") {
				fields = append(fields, k)
			}
		}
		if len(fields) == 0 {
			continue
		}
		all := map[string]any{}
		var cases []map[string]any
		for _, k := range fields {
			v := malformedValue()
			if isSensitive(p.Fields[k]) {
				v = []any{secret, secret}
			}
			fd := framework.FieldData{Raw: map[string]any{k: v}, Schema: p.Fields}
			if _, _, err := fd.GetOkErr(k); err == nil {
				t.Fatalf("%s: %s converts from %v: this case tests nothing", path, k, v)
			}
			cases = append(cases, map[string]any{k: v})
			all[k] = v
		}
		cases = append(cases, all)
		for op := range p.Operations {
			for _, data := range cases {
				before := e.storageSnapshot()
				resp, err := e.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: e.storage})
				requests++
				if got := answerOf(t, resp, err); got.status != http.StatusBadRequest {
					t.Fatalf("%s %s %v: status %d (%s), want 400", op, path, data, got.status, got.body)
				}
				if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
					t.Fatalf("%s %s: a refused request changed storage", op, path)
				}
			}
		}
	}
	if requests < 20 {
		t.Fatalf("only %d requests: this test measures little", requests)
	}
	if len(leaked) > 0 {
		t.Fatalf("handlers received fields that do not convert: %v", leaked)
	}
	if reached != 1 {
		t.Fatalf("%d refused requests reached a handler", reached-1)
	}
}

// TestFrameworkAloneQuotesMalformedSecrets is why step 2 of the front door
// stays although the framework checks types too: its refusal, and the
// error of its existence check (which Vault logs), quote the value.
func TestFrameworkAloneQuotesMalformedSecrets(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	secret := e.secret("S3CRET-" + strings.Repeat("f", 40))
	req := func() *logical.Request {
		return &logical.Request{Operation: logical.UpdateOperation, Path: "config",
			Data: map[string]any{"app_secret": []any{secret, secret}}, Storage: e.storage}
	}

	resp, err := e.b.Backend.HandleRequest(context.Background(), req())
	if got := answerOf(t, resp, err); got.status != http.StatusBadRequest || !strings.Contains(got.body, secret) {
		t.Fatalf("the framework alone answered %d without quoting the secret: step 2 may no longer be needed", got.status)
	}
	if _, _, err := e.b.Backend.HandleExistenceCheck(context.Background(), req()); err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("the framework's existence check no longer quotes the secret (%v): step 2 may no longer be needed there", err)
	}

	resp, err = e.b.HandleRequest(context.Background(), req())
	e.mustFail(resp, err, "app_secret: is malformed")
	_, _, err = e.b.HandleExistenceCheck(context.Background(), req())
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "app_secret") {
		t.Fatalf("existence check: %v, want a refusal naming app_secret only", err)
	}
}

// TestFrameworkAloneIgnoresUnknownFields is why step 4 of the front door
// stays: on a path of its own, the framework answers a request with a
// field the path does not define with success and a warning.
func TestFrameworkAloneIgnoresUnknownFields(t *testing.T) {
	called := false
	fb := &framework.Backend{
		BackendType: logical.TypeLogical,
		Paths: []*framework.Path{{
			Pattern: "thing$",
			Fields:  map[string]*framework.FieldSchema{"app_id": {Type: framework.TypeString}},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{
					Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
						called = true
						return &logical.Response{}, nil
					},
				},
			},
		}},
	}
	if err := fb.Setup(context.Background(), logical.TestBackendConfig()); err != nil {
		t.Fatal(err)
	}
	resp, err := fb.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.UpdateOperation, Path: "thing", Data: map[string]any{"app_idd": "1"}, Storage: &logical.InmemStorage{},
	})
	if err != nil || resp == nil || resp.IsError() || !called {
		t.Fatalf("the framework alone refused an unknown field (%v, %v): step 4 may no longer be needed", resp, err)
	}
	if !strings.Contains(strings.Join(resp.Warnings, " "), "app_idd") {
		t.Fatalf("warnings %v do not name the ignored field", resp.Warnings)
	}
}

// TestEveryOperationRefusesUnknownFields: every operation of every path
// refuses a field its path does not define with a 400 naming it (the
// callback with its HTML page; an unauthenticated path in fixed words),
// changes nothing, and quotes no value.
func TestEveryOperationRefusesUnknownFields(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	secret := e.secret("S3CRET-" + strings.Repeat("u", 40))

	for _, path := range frontDoorPaths {
		p := e.b.Route(path)
		if p.TakesArbitraryInput {
			// proxy/ passes Graph's parameters on by design: its own
			// test (TestProxyPassesGraphParametersOnAndRefusesOnlyDangerousOnes)
			// proves what it refuses.
			continue
		}
		for op := range p.Operations {
			data := map[string]any{"zz_unknown": secret, "aa_unknown": secret}
			before := e.storageSnapshot()
			resp, err := e.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: e.storage})
			got := answerOf(t, resp, err)
			// An unauthenticated path's answer names no field: the names
			// are the caller's to choose (issue 22).
			_, unauthenticated := e.b.unauthenticated(path)
			switch {
			case !unauthenticated && (got.status != http.StatusBadRequest || !strings.Contains(got.body, "aa_unknown, zz_unknown")):
				t.Fatalf("%s %s: %d %q, want a 400 naming both unknown fields", op, path, got.status, got.body)
			case unauthenticated && (got.status != http.StatusBadRequest || strings.Contains(got.body, "aa_unknown") ||
				!strings.Contains(got.body, "unknown field") && !strings.Contains(got.body, "parameters this page does not take")):
				t.Fatalf("%s %s: %d %q, want a 400 saying a field is unknown, naming none", op, path, got.status, got.body)
			}
			if isCallbackPath(p) != strings.Contains(got.contentType, "text/html") {
				t.Fatalf("%s %s: content type %q", op, path, got.contentType)
			}
			if strings.Contains(got.body, secret) {
				t.Fatalf("%s %s: the refusal quotes a value", op, path)
			}
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Fatalf("%s %s: a refused request changed storage", op, path)
			}
		}
	}
}

// TestFrontDoorOrder pins the order of the front door's steps where two
// refusals compete: a malformed sensitive field (step 2) before anything;
// an unsupported operation and a field of the wrong type (step 3) before
// an unknown field (step 4).
func TestFrontDoorOrder(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	secret := e.secret("S3CRET-" + strings.Repeat("o", 40))
	do := func(op logical.Operation, path string, data map[string]any) answer {
		resp, err := e.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: e.storage})
		return answerOf(t, resp, err)
	}

	got := do(logical.UpdateOperation, "config", map[string]any{"app_secret": []any{secret, secret}, "refresh_window": malformedValue(), "bogus": 1})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "app_secret: is malformed") {
		t.Fatalf("sensitive, malformed and unknown: %d %q, want app_secret refused quietly", got.status, got.body)
	}
	got = do(logical.UpdateOperation, "config", map[string]any{"refresh_window": malformedValue(), "bogus": 1})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "Field validation failed") || !strings.Contains(got.body, "refresh_window") {
		t.Fatalf("malformed and unknown: %d %q, want the framework's type refusal of refresh_window", got.status, got.body)
	}
	got = do(logical.DeleteOperation, "token/shop", map[string]any{"bogus": 1})
	if got.status != http.StatusMethodNotAllowed {
		t.Fatalf("unsupported operation with an unknown field: %d %q, want the framework's 405", got.status, got.body)
	}
	got = do(logical.ReadOperation, "callback", map[string]any{"error": malformedValue(), "bogus": "1"})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "Parameters: error") || strings.Contains(got.body, "bogus") {
		t.Fatalf("callback, malformed and unknown: %d %q, want the page naming the malformed field", got.status, got.body)
	}
}
