package instagram

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/errutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// The mount's front door. Every request passes these steps, in this order;
// the first that refuses answers.
//
//  1. fastTokenRead and fastProxyRead: a plain token read, and a read
//     through proxy/, are answered without the framework's router, which
//     would cost a round trip back to Vault (path_token.go, path_proxy.go).
//  2. The quiet type check (malformedField): a field whose value does not
//     convert to its type is refused here, naming the field only, when it
//     is sensitive (a code, a state, a token, a signed_request, the app
//     secret), and on the callback for any field, as the HTML page the
//     callback always answers. The framework's own refusal (step 3) quotes
//     the value it could not convert: the secret itself, in the answer and,
//     from an existence check, in Vault's log ("failed to run existence
//     check"). HandleExistenceCheck runs this step too.
//  3. The framework (b.Backend): it routes the path, refuses an operation
//     the path lacks, hands writes on a standby back to the active node,
//     and converts every field, refusing one that does not convert. Nothing
//     of this is repeated here: TestFrameworkConvertsEveryFieldBeforeAnyHandler
//     shows that no handler ever receives a field that does not convert.
//  4. The unknown-field refusal (refuseUnknownFields), wrapped around every
//     operation's handler by guardOperations: the framework accepts fields
//     a path does not define and only warns, on success, that it ignored
//     them, so a typo (app_idd) would be a silent no-op. It runs inside the
//     framework, after step 3, so that an unsupported operation or a field
//     of the wrong type is answered as the framework answers it.
//  5. The operation's handler.

// HandleRequest is logical.Backend's: steps 1 and 2, then the framework.
func (b *backend) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	if resp, err, ok := b.fastTokenRead(ctx, req); ok {
		return resp, err
	}
	if resp, err, ok := b.fastProxyRead(ctx, req); ok {
		return resp, err
	}
	if p, field := b.malformedField(req); field != "" {
		if isCallbackPath(p) {
			return b.refuseCallbackParams(field)
		}
		if isSensitive(p.Fields[field]) {
			return respondErr(malformedField(field))
		}
		// Any other malformed field is the framework's to refuse: its
		// value is no secret.
	}
	return b.Backend.HandleRequest(ctx, req)
}

// HandleExistenceCheck is logical.Backend's, with step 2 first: Vault logs
// the error an existence check returns.
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

// guardOperations puts step 4 around the handler of every operation of
// paths, once, when the backend is built: a path added later cannot forget
// it. Every path here declares its operations as *framework.PathOperation.
// A path that takes arbitrary input (proxy/, whose fields are Graph's
// parameters) checks its fields itself.
func (b *backend) guardOperations(paths []*framework.Path) {
	for _, p := range paths {
		if p.TakesArbitraryInput {
			continue
		}
		for _, h := range p.Operations {
			op := h.(*framework.PathOperation)
			op.Callback = b.refuseUnknownFields(p, op.Callback)
		}
	}
}

// refuseUnknownFields refuses a request carrying fields p does not define,
// naming them all (never their values), before next touches anything. The
// callback refuses with its HTML page. On an unauthenticated path the
// names are anyone's to choose, so the answer names none
// (errUnknownUnauthenticatedField).
func (b *backend) refuseUnknownFields(p *framework.Path, next framework.OperationFunc) framework.OperationFunc {
	callback := isCallbackPath(p)
	return func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
		var unknown []string
		for k := range d.Raw {
			if _, ok := d.Schema[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) == 0 {
			return next(ctx, req, d)
		}
		sort.Strings(unknown)
		fields := strings.Join(unknown, ", ")
		if callback {
			return b.refuseUnknownCallbackParams(fields)
		}
		if pattern, ok := b.unauthenticated(req.Path); ok {
			// Logged under the pattern, not the path: data-deletion/<code>
			// is the caller's to vary, and the refusal log keeps one
			// window per key.
			b.warnRefusal(pattern, "request refused: unknown fields", "fields", graph.CutText(fields, maxReflectedLength))
			return respondErr(errUnknownUnauthenticatedField)
		}
		return respondErr(&fieldError{field: fields, msg: "unknown field for this path"})
	}
}

// errUnknownUnauthenticatedField refuses unknown fields on an
// unauthenticated path in fixed words.
var errUnknownUnauthenticatedField = logical.CodedError(http.StatusBadRequest, "the request carries an unknown field for this path (an unauthenticated path does not repeat the names it was sent)")

// unauthenticated reports whether a request path is one of the backend's
// unauthenticated paths, matched as Vault matches PathsSpecial (a trailing
// "*" is a prefix), and which entry it matched.
func (b *backend) unauthenticated(reqPath string) (string, bool) {
	for _, p := range b.PathsSpecial.Unauthenticated {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(reqPath, prefix) || p == reqPath {
			return p, true
		}
	}
	return "", false
}

// isCallbackPath reports whether p is the callback's path, which answers
// every refusal as an HTML page. The framework anchors patterns with a "^"
// at its set-up.
func isCallbackPath(p *framework.Path) bool {
	return p != nil && strings.TrimPrefix(p.Pattern, "^") == callbackPattern
}

func isSensitive(s *framework.FieldSchema) bool {
	return s != nil && s.DisplayAttrs != nil && s.DisplayAttrs.Sensitive
}

func malformedField(field string) *fieldError {
	return badField(field, "is malformed (given more than once, or of the wrong type)")
}
