package instagram

import "time"

// The packed form of a timing in a schedEntry (schedule.go).

// packTime is t in Unix nanoseconds, 0 for the zero time. Every time the
// engine keeps lies between 1970 and 2262, which int64 nanoseconds cover
// exactly, so nothing is rounded.
func packTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// unpackTime is packTime's inverse, in UTC.
func unpackTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// stringCodes numbers the few distinct status and login strings, so that
// an entry holds a byte, not a 16-byte string header, for each. The
// engine's own come first (codeNeedsReauth is a constant); a string never
// seen before gets the next code, up to 255 of them.
type stringCodes struct {
	strs []string
	code map[string]uint8
}

const codeNeedsReauth = 3

func newStringCodes() *stringCodes {
	c := &stringCodes{code: map[string]uint8{}}
	for _, s := range []string{"", statusValid, statusRefreshFailing, statusNeedsReauth, statusExpiring, loginInstagram, loginFacebook} {
		c.of(s)
	}
	if c.code[statusNeedsReauth] != codeNeedsReauth {
		panic("stringCodes: codeNeedsReauth is not statusNeedsReauth's code")
	}
	return c
}

// of is s's code; past 255 distinct strings, the code of "" (never
// reached: statuses and logins are a handful).
func (c *stringCodes) of(s string) uint8 {
	if n, ok := c.code[s]; ok {
		return n
	}
	if len(c.strs) > 255 {
		return 0
	}
	n := uint8(len(c.strs))
	c.strs = append(c.strs, s)
	c.code[s] = n
	return n
}

func (c *stringCodes) str(n uint8) string { return c.strs[n] }

// packLocked stores t in e (its scopes as bits in the figures' table).
// Caller holds mu.
func (s *schedule) packLocked(e *schedEntry, t timing) {
	e.expiresAt = packTime(t.expiresAt)
	e.issuedAt = packTime(t.issuedAt)
	e.registeredAt = packTime(t.registeredAt)
	e.retryAt = packTime(t.retryAt)
	e.checkedAt = packTime(t.checkedAt)
	e.owners = t.owners
	e.status = s.codes.of(t.status)
	e.login = s.codes.of(t.login)
	e.scopeBits, e.scopesKnown = s.figs.scopes.mask(t.scopes)
}

// timingLocked unpacks e's timing, without its scopes (recordLocked adds
// them). Caller holds mu.
func (s *schedule) timingLocked(e *schedEntry) timing {
	return timing{
		expiresAt:    unpackTime(e.expiresAt),
		issuedAt:     unpackTime(e.issuedAt),
		registeredAt: unpackTime(e.registeredAt),
		retryAt:      unpackTime(e.retryAt),
		status:       s.codes.str(e.status),
		login:        s.codes.str(e.login),
		checkedAt:    unpackTime(e.checkedAt),
		checkOffset:  healthCheckOffset(e.name),
		owners:       e.owners,
	}
}

// usable reports whether e's token is still served and has a known expiry,
// so that it counts for the soonest expiry (timing.usable).
func (e *schedEntry) usable() bool {
	return e.status != codeNeedsReauth && e.expiresAt != 0
}
