// Package schedule holds the engine's timing rules: when an account's token
// is next refreshed, when it is next health-checked, and what, if anything,
// the periodic work should do with it now (Decide).
//
// It is pure on purpose: a function of an account's Timing, the Config that
// bears on it and the time, with no storage, no Meta, no Vault and no clock
// of its own. That is what lets its edges (Instagram's 24-hour rule, the
// refresh window, expiry, back-off, an app-wide pause, Facebook Login
// against Instagram Login) be tested as a table in milliseconds, rather than
// only through a whole backend driven by a fake clock. The plugin package
// keeps the mapping from its stored account to a Timing, and everything
// that acts on a decision.
package schedule
