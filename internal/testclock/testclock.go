// Package testclock is the clock tests move by hand, for every package
// whose code takes an injectable clock (the plugin, graph, the fake Meta,
// the notification outbox): tests advance it instead of sleeping. It
// imports nothing but the standard library.
package testclock

import (
	"sync"
	"time"
)

// Clock is a clock that stands still until Advance moves it. It is
// safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
