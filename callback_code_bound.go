package instagram

import (
	"net/http"

	"github.com/hashicorp/vault/sdk/logical"
)

// codeTooLong reports whether the callback's code is longer than any Meta
// issues (a few hundred characters), by the bound accounts/<name> applies
// to a code (maxCredentialLength). The callback is unauthenticated: without
// this bound a crafted URL's code, up to Vault's request size limit, would
// be sent to Meta beside the app secret.
func codeTooLong(code string) bool { return len(code) > maxCredentialLength }

// refuseOverlongCallbackCode answers a callback whose code is too long,
// before its state is checked: the state is left unused, so the owner's
// real redirect can still complete, and nothing is sent to Meta. The page
// says what was wrong in fixed words; the log line is rate-limited, as
// every refusal on this path is.
func (b *backend) refuseOverlongCallbackCode() (*logical.Response, error) {
	b.warnRefusal("callback", "authorization callback refused: code too long", "max_bytes", maxCredentialLength)
	return refusedPage(http.StatusBadRequest, "Authorization not completed",
		"The authorization code in the request is longer than any Instagram issues, so no account was connected.").response()
}
