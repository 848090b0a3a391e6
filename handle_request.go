package instagram

import (
	"context"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/errutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// The framework checks that every field converts to its type before any
// handler runs, and its refusal quotes the value it could not convert. For
// a field that carries a secret (a code, a state, a token, a signed_request,
// the app secret) given twice or as a list, that would put the secret in
// the error answered, and, from an existence check, in Vault's own log
// ("failed to run existence check"). So the backend runs that check itself
// first and refuses such input naming the field only; the callback, which
// must always answer its HTML page, does so for any malformed field.

// HandleRequest is logical.Backend's, with the quiet type check first and a
// direct route for token reads.
func (b *backend) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	if resp, err, ok := b.fastTokenRead(ctx, req); ok {
		return resp, err
	}
	if p, field := b.malformedField(req); field != "" {
		// The framework anchors patterns with a "^" at its set-up.
		if strings.TrimPrefix(p.Pattern, "^") == callbackPattern {
			return b.refuseCallbackParams(field)
		}
		if isSensitive(p.Fields[field]) {
			return respondErr(malformedField(field))
		}
	}
	return b.Backend.HandleRequest(ctx, req)
}

// fastTokenRead answers a plain read of token/<name> without the
// framework's router. The framework asks Vault for the replication state
// before every operation, to honour forwarding flags; in an external plugin
// that is a gRPC round trip back to Vault on every request, about a quarter
// of the ceiling of a read (BENCHMARKS.md). The token read carries no
// forwarding flag, so the answer to that question could never change what
// it does. Everything else, including help and reads with extra fields,
// goes through the framework.
func (b *backend) fastTokenRead(ctx context.Context, req *logical.Request) (*logical.Response, error, bool) {
	if req.Operation != logical.ReadOperation || len(req.Data) != 0 {
		return nil, nil, false
	}
	name, ok := strings.CutPrefix(req.Path, tokenPathPrefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return nil, nil, false
	}
	d := &framework.FieldData{Raw: map[string]any{"name": name}, Schema: b.tokenFields}
	// Direct calls, not withAccount's closures: through a function value d
	// would escape to the heap, three allocations more per read.
	a, err := b.accountFromPath(ctx, req.Storage, d)
	if err != nil {
		resp, err := respondErr(err)
		return resp, err, true
	}
	resp, err := b.pathTokenRead(ctx, req, d, a)
	return resp, err, true
}

// HandleExistenceCheck is logical.Backend's, with the quiet type check first.
func (b *backend) HandleExistenceCheck(ctx context.Context, req *logical.Request) (bool, bool, error) {
	if p, field := b.malformedField(req); field != "" && p.ExistenceCheck != nil && isSensitive(p.Fields[field]) {
		return true, false, errutil.UserError{Err: malformedField(field).Error()}
	}
	return b.Backend.HandleExistenceCheck(ctx, req)
}

// malformedField returns the request's path and a field whose value does
// not convert to the field's type, "" when all do. A malformed sensitive
// field wins over any other, whatever the order: the caller refuses it
// quietly, whereas a non-sensitive one is left to the framework, whose
// refusal quotes the value of the first malformed field it meets in map
// order (the secret, half the time, with app_id and app_secret both
// malformed). Otherwise the first by name, so the answer is the same every
// time. Fields captured from the URL are the framework's to fill, and
// always convert.
func (b *backend) malformedField(req *logical.Request) (*framework.Path, string) {
	if req.Operation == logical.HelpOperation || len(req.Data) == 0 {
		return nil, ""
	}
	p := b.Route(req.Path)
	if p == nil {
		return nil, ""
	}
	keys := make([]string, 0, len(req.Data))
	for k := range req.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	first := ""
	for _, k := range keys {
		schema, ok := p.Fields[k]
		if !ok || strings.Contains(p.Pattern, "(?P<"+k+">") {
			continue
		}
		fd := framework.FieldData{Raw: map[string]any{k: req.Data[k]}, Schema: map[string]*framework.FieldSchema{k: schema}}
		if _, _, err := fd.GetOkErr(k); err != nil {
			if isSensitive(schema) {
				return p, k
			}
			if first == "" {
				first = k
			}
		}
	}
	return p, first
}

func isSensitive(s *framework.FieldSchema) bool {
	return s != nil && s.DisplayAttrs != nil && s.DisplayAttrs.Sensitive
}

func malformedField(field string) *fieldError {
	return badField(field, "is malformed (given more than once, or of the wrong type)")
}
