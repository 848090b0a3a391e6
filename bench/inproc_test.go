package main

// In-process benchmarks of what the plugin process does for one read, for
// CPU profiles (the plugin process under Vault exposes no pprof):
//
//	go test ./bench -run XXX -bench InProcess -benchmem -cpuprofile /tmp/cpu.out
//	go tool pprof -top /tmp/cpu.out
//
// Each iteration does what the SDK's gRPC server does around a backend's
// HandleRequest (sdk/plugin/grpc_backend_server.go): decode the protobuf
// request into a logical.Request, run the backend, convert the response back
// to protobuf, and marshal it. Only go-plugin's gRPC transport and TLS are
// left out; those are the same for every plugin.

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin/pb"
	"google.golang.org/protobuf/proto"

	instagram "github.com/igvault/vault-plugin-secrets-instagram"
	"github.com/igvault/vault-plugin-secrets-instagram/bench/nullbackend"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// inprocEnv is an instagram backend configured against the fake Meta with
// "shop" registered, and a null backend answering shop's token read.
type inprocEnv struct {
	ig, null logical.Backend
	igStore  logical.Storage
	nullStor logical.Storage
}

func newInprocEnv(tb testing.TB) *inprocEnv {
	tb.Helper()
	ctx := context.Background()
	fake := graphtest.New(graphtest.Options{AppID: "bench-app", AppSecret: "bench-secret"})
	tb.Cleanup(fake.Close)

	e := &inprocEnv{igStore: &logical.InmemStorage{}, nullStor: &logical.InmemStorage{}}
	conf := logical.TestBackendConfig()
	conf.StorageView = e.igStore
	conf.Logger = hclog.NewNullLogger()
	ig, err := instagram.Factory(ctx, conf)
	if err != nil {
		tb.Fatal(err)
	}
	e.ig = ig

	ep := fake.Endpoints()
	mustHandle(tb, ig, &logical.Request{Operation: logical.UpdateOperation, Path: "config", Storage: e.igStore, Data: map[string]any{
		"app_id": "bench-app", "app_secret": "bench-secret",
		"redirect_uri":  "http://127.0.0.1:8200/v1/instagram/callback",
		"auth_base_url": ep.AuthBaseURL, "api_base_url": ep.APIBaseURL, "graph_base_url": ep.GraphBaseURL,
		"facebook_auth_base_url": ep.FacebookAuthBaseURL, "facebook_graph_base_url": ep.FacebookGraphBaseURL,
		"graph_api_version": ep.Version,
	}})
	issued := time.Now().Add(-time.Hour)
	tok := fake.MintLongLivedToken("shop", []string{"instagram_business_basic", "instagram_business_content_publish"}, issued)
	mustHandle(tb, ig, &logical.Request{Operation: logical.CreateOperation, Path: "accounts/shop", Storage: e.igStore, Data: map[string]any{
		"access_token": tok,
		"expires_at":   issued.Add(graphtest.LongLivedLifetime).UTC().Format(time.RFC3339),
	}})

	// The null backend answers exactly what token/shop answers, as Vault
	// would see it after the JSON round trip.
	resp := mustHandle(tb, ig, &logical.Request{Operation: logical.ReadOperation, Path: "token/shop", Storage: e.igStore})
	raw, err := json.Marshal(resp.Data)
	if err != nil {
		tb.Fatal(err)
	}
	constant, err := nullbackend.DecodeResponse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	nb := nullbackend.New(constant, nullbackend.AccountNames(1))
	nconf := logical.TestBackendConfig()
	nconf.StorageView = e.nullStor
	nconf.Logger = hclog.NewNullLogger()
	if err := nb.Setup(ctx, nconf); err != nil {
		tb.Fatal(err)
	}
	e.null = nb
	mustHandle(tb, nb, &logical.Request{Operation: logical.UpdateOperation, Path: "stored/shop", Storage: e.nullStor, Data: resp.Data})
	return e
}

func mustHandle(tb testing.TB, b logical.Backend, req *logical.Request) *logical.Response {
	tb.Helper()
	resp, err := b.HandleRequest(context.Background(), req)
	if err != nil || (resp != nil && resp.IsError()) {
		tb.Fatalf("%s %s: %v %v", req.Operation, req.Path, err, resp)
	}
	return resp
}

// pluginSideRead is one read as the plugin process serves it, minus the
// gRPC transport: protobuf request in, protobuf reply bytes out.
func pluginSideRead(b logical.Backend, s logical.Storage, pbReq *pb.Request) (int, error) {
	req, err := pb.ProtoRequestToLogicalRequest(pbReq)
	if err != nil {
		return 0, err
	}
	req.Storage = s
	resp, respErr := b.HandleRequest(context.Background(), req)
	pbResp, err := pb.LogicalResponseToProtoResponse(resp)
	if err != nil {
		return 0, err
	}
	out, err := proto.Marshal(&pb.HandleRequestReply{Response: pbResp, Err: pb.ErrToProtoErr(respErr)})
	return len(out), err
}

func BenchmarkReadInProcess(b *testing.B) {
	e := newInprocEnv(b)
	for _, bc := range []struct {
		name    string
		backend logical.Backend
		storage logical.Storage
		path    string
	}{
		{"instagram-token", e.ig, e.igStore, "token/shop"},
		{"null-token", e.null, e.nullStor, "token/shop"},
		{"null-token-callbacks", e.null, e.nullStor, "token-cb/shop"},
		{"null-stored-inmem", e.null, e.nullStor, "stored/shop"},
		{"instagram-account", e.ig, e.igStore, "accounts/shop"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pbReq, err := pb.LogicalRequestToProtoRequest(&logical.Request{
				ID: "00000000-0000-0000-0000-000000000000", Operation: logical.ReadOperation, Path: bc.path,
				MountPoint: "instagram/", MountType: "plugin", ClientToken: "hmac-of-root",
				Headers: map[string][]string{"User-Agent": {"Go-http-client/1.1"}},
			})
			if err != nil {
				b.Fatal(err)
			}
			n, err := pluginSideRead(bc.backend, bc.storage, pbReq)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n), "reply-bytes")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pluginSideRead(bc.backend, bc.storage, pbReq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestInprocEnv keeps the in-process set-up working under `go test ./...`:
// the null backend answers the same data as token/shop.
func TestInprocEnv(t *testing.T) {
	e := newInprocEnv(t)
	ig := mustHandle(t, e.ig, &logical.Request{Operation: logical.ReadOperation, Path: "token/shop", Storage: e.igStore})
	for _, p := range []string{"token/shop", "token-cb/shop", "stored/shop"} {
		n := mustHandle(t, e.null, &logical.Request{Operation: logical.ReadOperation, Path: p, Storage: e.nullStor})
		a, _ := json.Marshal(ig.Data)
		c, _ := json.Marshal(n.Data)
		if string(a) != string(c) {
			t.Errorf("null %s = %s, want %s", p, c, a)
		}
	}
}
