package instagram

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// What `vault path-help` and Vault's OpenAPI document (the web UI, client
// generators, `vault path-help`) know of the engine comes from the
// framework.Path definitions. These tests hold them to the contract: every
// path and operation is described, every field has a type and a
// description, every operation declares a typed success response, and
// operation IDs are unique and carry the "instagram" prefix.

// helpBackend is a backend set up as Vault would, enough to answer help.
func helpBackend(t *testing.T) (*backend, logical.Storage) {
	t.Helper()
	b := newBackend(backendOptions{clock: newFakeClock()})
	conf := logical.TestBackendConfig()
	// The root help asks the system view for Vault's version (it goes into
	// the document's info); the test view has no plugin environment.
	conf.System = &logical.StaticSystemView{PluginEnvironment: &logical.PluginEnvironment{VaultVersion: "1.21.3"}}
	conf.StorageView = &logical.InmemStorage{}
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	return b, conf.StorageView
}

// openAPIDocument is the engine's OpenAPI document, built the way Vault
// builds it for sys/internal/specs/openapi: a help request on the mount's
// root, with the plugin's type as the request/response name prefix.
func openAPIDocument(t *testing.T) (*backend, *framework.OASDocument) {
	t.Helper()
	b, s := helpBackend(t)
	resp, err := b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.HelpOperation,
		Path:      "",
		Storage:   s,
		Data:      map[string]any{"requestResponsePrefix": "instagram"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.Data["openapi"] == nil {
		t.Fatalf("root help answered no OpenAPI document: %#v", resp)
	}
	doc, ok := resp.Data["openapi"].(*framework.OASDocument)
	if !ok {
		t.Fatalf("root help's openapi is a %T, want *framework.OASDocument", resp.Data["openapi"])
	}
	if h, _ := resp.Data["help"].(string); !strings.Contains(h, "keeps Instagram access tokens alive") {
		t.Errorf("root help text does not describe the engine: %q", h)
	}
	return b, doc
}

type oasOp struct {
	path, method string
	op           *framework.OASOperation
}

func oasOperations(doc *framework.OASDocument) []oasOp {
	var out []oasOp
	for p, item := range doc.Paths {
		for method, op := range map[string]*framework.OASOperation{
			"get": item.Get, "post": item.Post, "delete": item.Delete, "patch": item.Patch,
		} {
			if op != nil {
				out = append(out, oasOp{p, method, op})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

func TestOpenAPIDocumentIsComplete(t *testing.T) {
	b, doc := openAPIDocument(t)
	ops := oasOperations(doc)

	// Every operation the backend defines is in the document: none was
	// dropped (an untranslatable pattern or an Unpublished flag would).
	// Create and Update share one POST, List is a GET on the path with a
	// trailing slash.
	want := 0
	for _, p := range b.Paths {
		for op := range p.Operations {
			switch op {
			case logical.CreateOperation:
				if p.Operations[logical.UpdateOperation] == nil {
					want++
				}
			case logical.ReadOperation, logical.UpdateOperation, logical.DeleteOperation,
				logical.ListOperation, logical.PatchOperation:
				want++
			}
		}
	}
	if len(ops) != want || want == 0 {
		t.Errorf("the OpenAPI document has %d operations; the backend defines %d", len(ops), want)
	}

	ids := map[string]string{}
	for _, o := range ops {
		where := strings.ToUpper(o.method) + " " + o.path
		item := doc.Paths[o.path]
		if strings.TrimSpace(item.Description) == "" {
			t.Errorf("%s: the path has no description (HelpSynopsis)", o.path)
		}
		if strings.TrimSpace(o.op.Summary) == "" {
			t.Errorf("%s: no summary", where)
		}
		if strings.TrimSpace(o.op.Description) == "" {
			t.Errorf("%s: no description", where)
		}

		id := o.op.OperationID
		if !strings.HasPrefix(id, operationPrefix+"-") {
			t.Errorf("%s: operationId %q does not start with %q", where, id, operationPrefix+"-")
		}
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share the operationId %q", other, where, id)
		}
		ids[id] = where

		// A success response, typed: a 200 whose body has a schema, or a 204.
		// (Raw responses, such as the callback's HTML page, are checked on
		// the framework definitions below: OpenAPI only shows their text.)
		ok, okFound := o.op.Responses[http.StatusOK]
		_, noContent := o.op.Responses[http.StatusNoContent]
		switch {
		case !okFound && !noContent:
			t.Errorf("%s: neither a 200 nor a 204 response is declared", where)
		case okFound && strings.TrimSpace(ok.Description) == "":
			t.Errorf("%s: the 200 response has no description", where)
		}
		for code, r := range o.op.Responses {
			if strings.TrimSpace(r.Description) == "" {
				t.Errorf("%s: response %d has no description", where, code)
			}
		}

		for _, p := range append(append([]framework.OASParameter(nil), item.Parameters...), o.op.Parameters...) {
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s: parameter %q has no description", where, p.Name)
			}
			if p.Schema == nil || p.Schema.Type == "" {
				t.Errorf("%s: parameter %q has no type", where, p.Name)
			}
		}
		if o.op.RequestBody != nil {
			checkSchemaRef(t, doc, where+" request body", o.op.RequestBody.Content)
		}
		for code, r := range o.op.Responses {
			if len(r.Content) > 0 {
				checkSchemaRef(t, doc, where+" response "+http.StatusText(code), r.Content)
			}
		}
	}
}

// checkSchemaRef follows a request or response body to its component
// schema and checks every property is typed and described.
func checkSchemaRef(t *testing.T, doc *framework.OASDocument, where string, content framework.OASContent) {
	t.Helper()
	media, ok := content["application/json"]
	if !ok || media.Schema == nil {
		t.Errorf("%s: no application/json schema", where)
		return
	}
	s := media.Schema
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		if s = doc.Components.Schemas[name]; s == nil {
			t.Errorf("%s: schema %q is missing from the components", where, name)
			return
		}
	}
	if len(s.Properties) == 0 {
		t.Errorf("%s: the schema has no properties", where)
	}
	for name, p := range s.Properties {
		if p.Type == "" {
			t.Errorf("%s: field %q has no type", where, name)
		}
		if strings.TrimSpace(p.Description) == "" {
			t.Errorf("%s: field %q has no description", where, name)
		}
	}
}

// TestPathDefinitionsAreTypedAndDescribed checks what OpenAPI cannot show:
// fields that only some operations use, and raw (non-JSON) responses.
func TestPathDefinitionsAreTypedAndDescribed(t *testing.T) {
	b, _ := helpBackend(t)
	for _, p := range b.Paths {
		pattern := strings.TrimPrefix(p.Pattern, "^")
		if strings.TrimSpace(p.HelpSynopsis) == "" || strings.TrimSpace(p.HelpDescription) == "" {
			t.Errorf("%s: HelpSynopsis and HelpDescription are both needed for `vault path-help`", pattern)
		}
		if p.DisplayAttrs == nil || p.DisplayAttrs.OperationPrefix != operationPrefix {
			t.Errorf("%s: DisplayAttrs.OperationPrefix is not %q", pattern, operationPrefix)
		}
		//lint:ignore SA1019 the test reads the deprecated map only to prove it is empty
		if len(p.Callbacks) > 0 {
			t.Errorf("%s: uses the legacy Callbacks map, which has no summaries or responses", pattern)
		}
		for name, f := range p.Fields {
			checkField(t, pattern+" field "+name, f)
		}
		for op, h := range p.Operations {
			props := h.Properties()
			where := string(op) + " " + pattern
			if props.Unpublished {
				t.Errorf("%s: unpublished operations are invisible to OpenAPI", where)
			}
			var success []framework.Response
			for _, code := range []int{http.StatusOK, http.StatusNoContent} {
				success = append(success, props.Responses[code]...)
			}
			if len(success) == 0 {
				t.Errorf("%s: no 200 or 204 response declared", where)
			}
			for _, r := range props.Responses[http.StatusOK] {
				// A 200 is typed by its fields, or by the media type of
				// the raw body it answers (the callback's HTML page).
				if len(r.Fields) == 0 && r.MediaType == "" {
					t.Errorf("%s: the 200 response declares neither fields nor a media type", where)
				}
				for name, f := range r.Fields {
					checkField(t, where+" response field "+name, f)
				}
			}
		}
	}
}

func checkField(t *testing.T, where string, f *framework.FieldSchema) {
	t.Helper()
	if f.Type == framework.TypeInvalid {
		t.Errorf("%s: no type", where)
	}
	if strings.TrimSpace(f.Description) == "" {
		t.Errorf("%s: no description", where)
	}
}

// TestPathHelp asks for `vault path-help` on one concrete path per
// documented path and checks the answer is that path's help.
func TestPathHelp(t *testing.T) {
	b, doc := openAPIDocument(t)
	param := regexp.MustCompile(`\{\w+\}`)
	for p := range doc.Paths {
		path := strings.TrimSuffix(param.ReplaceAllString(strings.TrimPrefix(p, "/"), "example"), "/")
		route := b.Route(path)
		if route == nil {
			t.Errorf("%s: the concrete path %q matches no route", p, path)
			continue
		}
		resp, err := b.HandleRequest(context.Background(), &logical.Request{
			Operation: logical.HelpOperation,
			Path:      path,
			Storage:   &logical.InmemStorage{},
		})
		if err != nil {
			t.Errorf("path-help %s: %v", path, err)
			continue
		}
		help, _ := resp.Data["help"].(string)
		for _, want := range []string{strings.TrimSpace(route.HelpSynopsis), firstLine(route.HelpDescription)} {
			if want != "" && !strings.Contains(help, want) {
				t.Errorf("path-help %s does not contain %q:\n%s", path, want, help)
			}
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
