// Package schedule is the engine's schedule, with nothing of Vault, Meta or
// storage in it: the timing rules and the in-memory queue they order.
//
// The rules (timing.go, decide.go) say when an account's token is next
// refreshed, when it is next health-checked, and what, if anything, the
// periodic work should do with it now (Decide). They are pure functions of
// an account's Timing, the Config that bears on it and the time, with no
// clock of their own, so that their edges (Instagram's 24-hour rule, the
// refresh window, expiry, back-off, an app-wide pause, Facebook Login
// against Instagram Login) are tested as a table in milliseconds rather
// than only through a whole backend driven by a fake clock.
//
// The Queue (queue.go) holds what the schedule keeps of every account (an
// Account, packed: entry.go) ordered by due time: the periodic work claims
// what is due with a lease (ClaimDue, Release, PutBack), a rebuild replaces
// it while a journal keeps the writes made meanwhile (journal.go), and it
// answers from memory which accounts a Meta user owns (owners.go), a page of
// names for LIST, what each storage index shard should hold (shards.go) and
// the figures status and metrics report (figures.go).
//
// The plugin package maps its stored account to an Account, stores the
// index, and does whatever a decision asks for.
package schedule
