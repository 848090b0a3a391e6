package schedule

import (
	"math"
	"time"
)

// entry is one account in the queue: its Account packed into 112 bytes (an
// Account is 240), since a mount may hold a million (BenchmarkScheduleMemory,
// BENCHMARKS.md). accountLocked unpacks it.
type entry struct {
	name string
	// The Account's times in Unix nanoseconds, 0 for the zero time
	// (packTime), its owner hashes, and its status and login as codes
	// (stringCodes); its scopes are bits (scopeBits); CheckOffset is the
	// name's.
	expiresAt, issuedAt, registeredAt, retryAt, checkedAt int64
	owners                                                [2]uint64
	status, login                                         uint8

	at        int64  // when due, Unix nanoseconds; 0: parked (not queued)
	scopeBits uint64 // granted scopes (figs.scopes)

	index    int32 // position in the due heap, -1 when not queued
	expIndex int32 // position in figs.expiry, -1 when not there
	shardPos int32 // position in its index shard's list

	scopesKnown bool
	counted     bool // in figs (assignLocked)
	// unverified: the stored account may not match the entry (its index
	// record was pending, or its write failed): it is due at once, so the
	// periodic work reads it, and stays pending in the index until then.
	unverified bool
}

// usable reports whether e's token is still served (any status but
// needs_reauth) and has a known expiry, so that it counts for the soonest
// expiry.
func (e *entry) usable() bool {
	return e.status != codeNeedsReauth && e.expiresAt != 0
}

// packTime is t in Unix nanoseconds, 0 for the zero time. Every time the
// engine keeps lies between 1970 and 2262, which int64 nanoseconds cover
// exactly, so nothing is rounded. A time outside what they cover (1677 to
// 2262) is kept as the nearest one they do, rather than wrapped around
// (UnixNano's answer for it is undefined): the engine bounds the times
// Meta states, and this keeps any other from turning a far-future expiry
// into a past one.
func packTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
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
// engine's own come first (codeNeedsReauth and codeValid are constants); a
// string never seen before gets the next code, up to 255 of them.
type stringCodes struct {
	strs []string
	code map[string]uint8
}

const codeNeedsReauth = 3

func newStringCodes() *stringCodes {
	c := &stringCodes{code: map[string]uint8{}}
	for _, s := range []string{"", StatusValid, StatusRefreshFailing, StatusNeedsReauth, StatusExpiring, LoginInstagram, LoginFacebook} {
		c.of(s)
	}
	if c.code[StatusNeedsReauth] != codeNeedsReauth || c.code[StatusValid] != codeValid {
		panic("stringCodes: codeNeedsReauth or codeValid is not its status's code")
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

// packLocked stores a in e (its scopes as bits in the figures' table).
// Caller holds mu.
func (q *Queue) packLocked(e *entry, a Account) {
	e.expiresAt = packTime(a.ExpiresAt)
	e.issuedAt = packTime(a.IssuedAt)
	e.registeredAt = packTime(a.RegisteredAt)
	e.retryAt = packTime(a.RetryAt)
	e.checkedAt = packTime(a.CheckedAt)
	e.owners = a.Owners
	e.status = q.codes.of(a.Status)
	e.login = q.codes.of(a.Login)
	e.scopeBits, e.scopesKnown = q.figs.scopes.mask(a.Scopes)
}

// accountLocked unpacks e, without its scopes (recordLocked adds them).
// Caller holds mu.
func (q *Queue) accountLocked(e *entry) Account {
	return Account{
		ExpiresAt:    unpackTime(e.expiresAt),
		IssuedAt:     unpackTime(e.issuedAt),
		RegisteredAt: unpackTime(e.registeredAt),
		RetryAt:      unpackTime(e.retryAt),
		Status:       q.codes.str(e.status),
		Login:        q.codes.str(e.login),
		CheckedAt:    unpackTime(e.checkedAt),
		CheckOffset:  CheckOffset(e.name),
		Owners:       e.owners,
	}
}
