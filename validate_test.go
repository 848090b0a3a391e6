package instagram

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

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
