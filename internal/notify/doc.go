// Package notify is the pure core of the engine's notifications, with
// nothing of Vault in it: the events the engine sends when an account's or
// the app's state changes (event.go), how they are signed (sign.go), the
// durable outbox that delivers them at least once and in order per account
// (outbox.go over the Store interface, store.go), the HTTP delivery itself
// (deliver.go) and the mapping onto Vault's own event system
// (vaultevents.go).
//
// The plugin package wires it: it calls Outbox.Enqueue where a status
// changes (Transition says which changes are events), Outbox.Run from the
// periodic function (a handoff that returns at once: delivery runs on the
// outbox's own goroutines), Outbox.Figures for status and metrics, and
// Outbox.Close when the mount goes. The outbox takes its storage as a Store,
// a four-method interface shaped like Vault's logical.Storage, so that the
// plugin passes a small adapter and this package stays testable with a map.
package notify
