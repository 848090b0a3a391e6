//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// The engine's paths as the README and docs/paths.md name them, with
// their methods: Vault's published OpenAPI document must have at least
// these. Paths added later are checked by the comparison with the
// plugin's own document below.
var contractOperations = []string{
	"GET /instagram/accounts/",
	"GET /instagram/accounts/{name}",
	"POST /instagram/accounts/{name}",
	"DELETE /instagram/accounts/{name}",
	"POST /instagram/accounts/{name}/refresh",
	"POST /instagram/auth-url",
	"GET /instagram/callback",
	"POST /instagram/callback",
	"GET /instagram/config",
	"POST /instagram/config",
	"DELETE /instagram/config",
	"POST /instagram/data-deletion",
	"GET /instagram/data-deletion/{confirmation_code}",
	"POST /instagram/deauthorize",
	"GET /instagram/status",
	"GET /instagram/token/{name}",
}

type oasOperation struct {
	OperationID string `json:"operationId"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
}

type oasDocument struct {
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

// operations maps "METHOD /path" to the operation, for paths under prefix
// (the prefix is kept).
func (d oasDocument) operations(t *testing.T, prefix string) map[string]oasOperation {
	t.Helper()
	out := map[string]oasOperation{}
	for path, item := range d.Paths {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		for method, raw := range item {
			switch method {
			case "get", "post", "delete", "patch", "put":
			default:
				continue // parameters, description, x-vault-*
			}
			var op oasOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			out[strings.ToUpper(method)+" "+path] = op
		}
	}
	return out
}

// getJSON GETs /v1/<path>?query with the root token and decodes the body.
func (e *env) getJSON(path string, query map[string][]string, into any) {
	e.t.Helper()
	resp, err := e.root.Logical().ReadRawWithDataWithContext(context.Background(), path, query)
	if resp == nil {
		e.fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e.fatalf("GET %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		e.fatalf("GET %s: %v", path, err)
	}
}

// TestOpenAPISpecListsEveryOperation reads Vault's OpenAPI document
// (GET /v1/sys/internal/specs/openapi, what the web UI and client
// generators use) and checks it publishes every operation of the mount,
// exactly as the plugin documents itself (GET /v1/instagram?help=1).
func TestOpenAPISpecListsEveryOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	var spec oasDocument
	e.getJSON("sys/internal/specs/openapi", nil, &spec)
	published := spec.operations(t, "/"+mountPath+"/")

	var help struct {
		OpenAPI oasDocument `json:"openapi"`
	}
	e.getJSON(mountPath, map[string][]string{"help": {"1"}}, &help)
	own := map[string]oasOperation{}
	for k, op := range help.OpenAPI.operations(t, "/") {
		method, path, _ := strings.Cut(k, " ")
		own[method+" /"+mountPath+path] = op
	}
	if len(own) == 0 {
		t.Fatal("the mount's root help has no OpenAPI operations")
	}

	for _, k := range contractOperations {
		if _, ok := published[k]; !ok {
			t.Errorf("Vault's OpenAPI document lacks %s", k)
		}
	}
	for k, op := range own {
		pub, ok := published[k]
		switch {
		case !ok:
			t.Errorf("the plugin documents %s, Vault's OpenAPI document does not", k)
		case pub != op:
			t.Errorf("%s: Vault publishes %+v, the plugin documents %+v", k, pub, op)
		}
	}
	for k, op := range published {
		if _, ok := own[k]; !ok {
			t.Errorf("Vault's OpenAPI document has %s, which the plugin does not document", k)
		}
		if op.Summary == "" || op.Description == "" || !strings.HasPrefix(op.OperationID, "instagram-") {
			t.Errorf("%s is published without a summary, a description or an instagram- operationId: %+v", k, op)
		}
	}

	keys := make([]string, 0, len(published))
	for k := range published {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("Vault publishes %d operations under /%s/: %s", len(keys), mountPath, strings.Join(keys, ", "))
}
