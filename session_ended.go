package instagram

import (
	"errors"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Meta ends a user's sessions when they change their password (unified
// accounts do so since 2026) or when it resets them for security, and
// tells nobody: the token then fails with code 190, subcode 460, on a
// refresh, on /me and in debug_token's verdict alike. Every step that
// meets it says so in the same words (sessionEndedMessage), so that operators
// and alerts read one cause whichever step found it.

// subcodeSessionEnded is code 190's subcode for a session Meta ended.
const subcodeSessionEnded = 460

// sessionEnded reports whether e is Meta's answer for a session it ended.
func sessionEnded(e *graph.Error) bool {
	return e != nil && e.Code == graph.CodeInvalidToken && e.Subcode == subcodeSessionEnded
}

// sessionEndedIn reports whether err carries Meta's answer for a session it
// ended.
func sessionEndedIn(err error) bool {
	var gerr *graph.Error
	return errors.As(err, &gerr) && sessionEnded(gerr)
}

// sessionEndedMessage is last_error for a session Meta ended, found by
// step ("refresh", "health check (me)", "health check (debug_token)").
func sessionEndedMessage(step string) string { return step + ": " + sessionEndedReason }

// sessionEndedReason is what last_error says, after the step that found
// it, of a token whose session Meta ended (sessionEnded).
const sessionEndedReason = "Meta ended the token's session (code 190, subcode 460): its owner changed their password, or Meta reset the session for security; the owner must authorize again (auth-url)"
