// Package nullbackend is the backend of the benchmark's null plugin
// (bench/nullplugin): the least a secrets engine on the SDK's framework can
// do to answer a read. It is a package of its own so that the in-process
// benchmarks in bench/ run exactly the code the null plugin serves.
//
// Paths:
//
//	token/<name>   read: a constant response (the same map every time,
//	               cloned), never touching storage.
//	stored/<name>  write: stores the request's data as one storage entry;
//	               read: reads that entry back and answers it decoded (one
//	               storage round trip per read).
//	token-cb/<name> read: the same constant, through the path's deprecated
//	               Callbacks field instead of Operations. The SDK's framework
//	               asks Vault for the replication state (a gRPC call back
//	               into Vault, for an external plugin) before running an
//	               Operations handler, not before a Callbacks one: the
//	               difference is what that call costs.
//	keys/          list: a constant list of keys (the names the benchmark
//	               registers on the instagram mount), never touching storage.
//	relay/<name>   read with url=<URL>: GETs the URL, reads its answer and
//	               answers the constant: the least a plugin that calls out
//	               on a reader's behalf does, the measure of what the
//	               instagram plugin's proxy/ could at best cost.
package nullbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// AccountName is the name the benchmark gives its i-th account (i ≥ 1);
// account 0 is "shop".
func AccountName(i int) string {
	if i == 0 {
		return "shop"
	}
	return fmt.Sprintf("acct-%06d", i)
}

// AccountNames are the names of n accounts as LIST answers them: sorted.
func AccountNames(n int) []string {
	out := make([]string, 0, n)
	for i := 1; i < n; i++ {
		out = append(out, AccountName(i))
	}
	if n > 0 {
		out = append(out, AccountName(0)) // "shop" sorts after "acct-..."
	}
	return out
}

// ListPage is the instagram engine's first page of LIST accounts/: its
// default and largest limit.
const ListPage = 1000

// FirstPage is the first page of LIST accounts/ with n accounts registered.
func FirstPage(n int) []string {
	names := AccountNames(n)
	return names[:min(len(names), ListPage)]
}

// New returns a framework backend that answers constant on token/<name>
// and listKeys on LIST keys/.
func New(constant map[string]any, listKeys []string) *framework.Backend {
	nameField := map[string]*framework.FieldSchema{
		"name": {Type: framework.TypeString, Required: true},
	}
	return &framework.Backend{
		Help:        "A null secrets plugin: the benchmark's ceiling.",
		BackendType: logical.TypeLogical,
		Paths: []*framework.Path{
			{
				// The same pattern and field schema as the instagram
				// plugin's token/<name>, so the framework does the same
				// routing and field work.
				Pattern: "token/(?P<name>[^/]+)$",
				Fields:  nameField,
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ReadOperation: &framework.PathOperation{
						Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
							// A fresh map, as a real handler builds one;
							// the values are shared and never modified.
							return &logical.Response{Data: maps.Clone(constant)}, nil
						},
					},
				},
			},
			{
				Pattern: "token-cb/(?P<name>[^/]+)$",
				Fields:  nameField,
				Callbacks: map[logical.Operation]framework.OperationFunc{
					logical.ReadOperation: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
						return &logical.Response{Data: maps.Clone(constant)}, nil
					},
				},
			},
			{
				Pattern: "relay/(?P<name>[^/]+)$",
				Fields: map[string]*framework.FieldSchema{
					"name": nameField["name"],
					"url":  {Type: framework.TypeString, Query: true, Required: true},
				},
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ReadOperation: &framework.PathOperation{Callback: relay(constant)},
				},
			},
			{
				// Like the instagram plugin's accounts/ list.
				Pattern: "keys/?$",
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ListOperation: &framework.PathOperation{
						Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
							return logical.ListResponse(listKeys), nil
						},
					},
				},
			},
			{
				Pattern: "stored/(?P<name>[^/]+)$",
				Fields:  nameField,
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ReadOperation:   &framework.PathOperation{Callback: storedRead},
					logical.UpdateOperation: &framework.PathOperation{Callback: storedWrite},
					logical.CreateOperation: &framework.PathOperation{Callback: storedWrite},
				},
				ExistenceCheck: func(context.Context, *logical.Request, *framework.FieldData) (bool, error) {
					return true, nil
				},
			},
		},
	}
}

// relay answers relay/<name>: a GET of url with a pooled client that
// speaks HTTP/2 over TLS, as the instagram plugin's does (trusting what
// SSL_CERT_FILE names), then the constant.
func relay(constant map[string]any) framework.OperationFunc {
	client := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}}
	return func(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Get("url").(string), nil)
		if err != nil {
			return logical.ErrorResponse("url: not a URL"), nil
		}
		resp, err := client.Do(req)
		if err != nil {
			// Not the *url.Error itself: it quotes the URL, token and all.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("relay: %w", err)
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("relay: HTTP %d", resp.StatusCode)
		}
		return &logical.Response{Data: maps.Clone(constant)}, nil
	}
}

// DecodeResponse parses a constant answer from JSON; numbers stay
// json.Number so the answer re-encodes as it was given.
func DecodeResponse(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func storedRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	entry, err := req.Storage.Get(ctx, "stored/"+d.Get("name").(string))
	if err != nil || entry == nil {
		return nil, err
	}
	var m map[string]any
	if err := entry.DecodeJSON(&m); err != nil {
		return nil, err
	}
	return &logical.Response{Data: m}, nil
}

func storedWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	data := maps.Clone(req.Data)
	delete(data, "name")
	entry, err := logical.StorageEntryJSON("stored/"+d.Get("name").(string), data)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, entry)
}
