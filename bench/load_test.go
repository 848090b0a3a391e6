package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestLoadRunSeqAlternatesAndKeepsEachOperationApart: operations measured
// side by side run once each an iteration, the order turned every
// iteration (A B, B A, ...), so neither always follows the other; each
// sample holds only its own operation's latencies and failures.
func TestLoadRunSeqAlternatesAndKeepsEachOperationApart(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	record := func(name string) { mu.Lock(); calls = append(calls, name); mu.Unlock() }
	boom := errors.New("boom")
	newOps := func() ([]func() error, error) {
		return []func() error{
			func() error { record("a"); return nil },
			func() error { record("b"); return boom },
		}, nil
	}
	ss := loadRunSeq(context.Background(), 1, 0, 20*time.Millisecond, newOps)
	if len(ss) != 2 {
		t.Fatalf("%d samples, want 2", len(ss))
	}
	a, b := ss[0], ss[1]
	if len(a.lat) == 0 || a.errors != 0 {
		t.Fatalf("a: %d latencies, %d errors; want some and none", len(a.lat), a.errors)
	}
	if len(b.lat) != 0 || b.errors == 0 || !errors.Is(b.firstErr, boom) {
		t.Fatalf("b: %d latencies, %d errors (%v); want none and its failures", len(b.lat), b.errors, b.firstErr)
	}
	// Iterations are pairs, ab, ba, ab, ...: the window is checked between
	// iterations, so each runs whole.
	if len(calls) < 4 {
		t.Fatalf("only %d calls in the window", len(calls))
	}
	for i := 0; i+1 < len(calls); i += 2 {
		want := []string{"a", "b"}
		if (i/2)%2 == 1 {
			want = []string{"b", "a"}
		}
		if got := calls[i : i+2]; !slices.Equal(got, want) {
			t.Fatalf("iteration %d ran %v, want %v (calls %v)", i/2, got, want, calls[:min(len(calls), 12)])
		}
	}
}

// TestLoadRunOpsIsOneOperationAlone: the single-operation form measures
// just that operation.
func TestLoadRunOpsIsOneOperationAlone(t *testing.T) {
	n := 0
	s := loadRunOps(context.Background(), 1, 0, 10*time.Millisecond, func() (func() error, error) {
		return func() error { n++; return nil }, nil
	})
	if len(s.lat) == 0 || len(s.lat) > n || s.errors != 0 || s.window != 10*time.Millisecond {
		t.Fatalf("sample: %d latencies of %d calls, %d errors, window %v", len(s.lat), n, s.errors, s.window)
	}
}
