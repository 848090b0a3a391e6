package instagram

import (
	"context"
	"time"
)

// Once Meta has been asked for a token (a refresh, a code exchange), what
// it answers must be stored whether or not the client of the Vault request
// still waits: Meta may have issued a new token (and for a code, used the
// code up), and a save cancelled with the request would lose it. The
// periodic run never cancels its work for that reason (tick); the paths a
// client calls finish theirs the same way, on a context that keeps the
// request's values but not its cancellation or deadline, bounded instead by
// the engine: each call to Meta by request_timeout (callMeta), the whole by
// the bound given here.

// saveTimeout bounds storing one outcome once the request no longer bounds
// it. Vault's storage answers in milliseconds; a minute is a storage outage.
const saveTimeout = time.Minute

// detached returns a context for finishing work the request started:
// ctx's values, none of its cancellation or deadline, and a bound of its
// own.
func detached(ctx context.Context, bound time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bound)
}

// metaCallsPerAuthorization bounds the calls to Meta one authorization
// makes (Instagram Login: code exchange, long-lived exchange, me; Facebook
// Login: code exchange, long-lived exchange, debug_token, Pages), with one
// to spare, for the bound on finishing a callback.
const metaCallsPerAuthorization = 5
