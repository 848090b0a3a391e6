package notify

// The account statuses Transition knows, as the engine stores them.
const (
	statusNeedsReauth    = "needs_reauth"
	statusRefreshFailing = "refresh_failing"
)

// Transition is the event, if any, that an account's status change from
// "from" to "to" makes. Registration (from "") makes none, nor does a
// status that does not change, a recovery from refresh_failing, or the
// Facebook Login "expiring" status coming or going. The engine sends
// Deauthorized, Deleted and the app events itself where those happen:
// they are not status changes alone (a deauthorization ends in
// needs_reauth too, and the engine sends Deauthorized instead).
func Transition(from, to string) (Type, bool) {
	switch {
	case from == "" || from == to:
		return "", false
	case to == statusNeedsReauth:
		return NeedsReauth, true
	case from == statusNeedsReauth:
		return Reauthorized, true
	case to == statusRefreshFailing:
		return RefreshFailing, true
	}
	return "", false
}
