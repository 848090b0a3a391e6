package vaultproc

import (
	"errors"
	"strings"

	"github.com/hashicorp/vault/api"
)

// StatusOf is the HTTP status of a Vault API error, 0 if err is not one:
// tests check what Vault answered, not how the client phrased it.
func StatusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// ErrorText is what Vault said in an API error (its "errors" joined with
// "; "), for checking that a 400 names the field; any other error's text,
// or "" for nil.
func ErrorText(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return strings.Join(re.Errors, "; ")
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
