package instagram

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestUnknownAccountIsNotFound asks every per-account path about an account
// that is not registered: each answers 404 with an error that says so (an
// empty 404 left operators guessing between a typo, a wrong mount and a
// missing policy). A delete of an unknown account keeps its answer (204,
// deleting is idempotent), and a malformed name is still a 400 naming the
// field. Both login products: pages is a Facebook Login path.
func TestUnknownAccountIsNotFound(t *testing.T) {
	for _, login := range []string{loginInstagram, loginFacebook} {
		t.Run(login, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(map[string]any{"login": login})
			const want = `account "nope" is not registered`
			for _, c := range []struct {
				op   logical.Operation
				path string
			}{
				{logical.ReadOperation, "token/nope"},
				{logical.ReadOperation, "accounts/nope"},
				{logical.ReadOperation, "accounts/nope/pages"},
				{logical.UpdateOperation, "accounts/nope/refresh"},
			} {
				req := &logical.Request{Operation: c.op, Path: c.path, Storage: e.storage}
				resp, err := e.b.HandleRequest(context.Background(), req)
				if status, msg := vaultAnswer(req, resp, err); status != http.StatusNotFound || msg != want {
					t.Errorf("%s %s: answered %d %q; want 404 %q", c.op, c.path, status, msg, want)
				}
				// A malformed name stays a 400 naming the field.
				req = &logical.Request{Operation: c.op, Path: c.path[:len(c.path)-len("nope")] + "bad!name", Storage: e.storage}
				if c.path == "accounts/nope/pages" || c.path == "accounts/nope/refresh" {
					req.Path = "accounts/bad!name" + c.path[len("accounts/nope"):]
				}
				resp, err = e.b.HandleRequest(context.Background(), req)
				e.mustFail(resp, err, "name:")
				if status, _ := vaultAnswer(req, resp, err); status != http.StatusBadRequest {
					t.Errorf("%s %s: answered %d, want 400", c.op, req.Path, status)
				}
			}
			// Deleting an unknown account is not an error: 204, as before.
			if resp, err := e.do(logical.DeleteOperation, "accounts/nope", nil); err != nil || resp != nil {
				t.Errorf("delete accounts/nope: %v %v, want nothing (204)", resp, err)
			}
		})
	}
}

// vaultAnswer is the status and error message Vault's HTTP layer answers
// for a handler's resp, err: a coded error's own status (Vault checks those
// last, so they win), else what RespondErrorCommon says for the request.
func vaultAnswer(req *logical.Request, resp *logical.Response, err error) (int, string) {
	status, rerr := logical.RespondErrorCommon(req, resp, err)
	var coded logical.HTTPCodedError
	if errors.As(err, &coded) {
		status = coded.Code()
	}
	msg := ""
	if rerr != nil {
		msg = rerr.Error()
	}
	return status, msg
}

// mustBeUnregistered asserts that resp, err is the answer to a read of a
// per-account path whose account is not registered: no data, a 404 saying so.
func (e *testEnv) mustBeUnregistered(path, name string, resp *logical.Response, err error) {
	e.t.Helper()
	want := `account "` + name + `" is not registered`
	req := &logical.Request{Operation: logical.ReadOperation, Path: path}
	if status, msg := vaultAnswer(req, resp, err); resp != nil || status != http.StatusNotFound || msg != want {
		e.t.Errorf("%s: answered %d %q (resp %v); want 404 %q and no data", path, status, msg, resp, want)
	}
}
