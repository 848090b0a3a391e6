package schedule

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// BenchmarkScheduleMemory measures what the schedule holds per account:
// the live heap after building it from n records (n from
// SCHEDULE_MEMORY_ACCOUNTS, default 100,000; 1,000,000 for issue 17), with
// the records themselves gone. SCHEDULE_MEMORY_PROFILE names a file for
// the heap profile:
//
//	SCHEDULE_MEMORY_ACCOUNTS=1000000 SCHEDULE_MEMORY_PROFILE=/tmp/heap.out \
//	  go test -run XXX -bench ScheduleMemory -benchtime 1x ./internal/schedule
//	go tool pprof -sample_index=inuse_space -top /tmp/heap.out
func BenchmarkScheduleMemory(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SCHEDULE_MEMORY_ACCOUNTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SCHEDULE_MEMORY_ACCOUNTS=%q", v)
		}
	}
	for b.Loop() {
		before := liveHeap()
		s := NewQueue(testWindow)
		s.Replace(testWindow, memoryRecords(n), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
		after := liveHeap()
		if path := os.Getenv("SCHEDULE_MEMORY_PROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		b.ReportMetric(float64(after-before)/float64(n), "bytes/account")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB")
		if s.Figures().Total != n {
			b.Fatal("lost accounts")
		}
		runtime.KeepAlive(s)
	}
}

// memoryRecords are n accounts as the bench registers them (acct-NNNNNN,
// Instagram Login, a known expiry, one or two scopes, an owner id), their
// times spread over a month.
func memoryRecords(n int) []Record {
	recs := make([]Record, n)
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	scopes := [][]string{{"instagram_business_basic"}, {"instagram_business_basic", "instagram_business_content_publish"}}
	for i := range recs {
		name := fmt.Sprintf("acct-%06d", i)
		issued := base.Add(-time.Duration(i%(30*24)) * time.Hour).Add(time.Duration(i) * time.Millisecond)
		recs[i] = Record{Name: name, Account: Account{
			IssuedAt: issued, ExpiresAt: issued.Add(tokenLifetime), RegisteredAt: issued,
			Status: StatusValid, Login: LoginInstagram, CheckOffset: CheckOffset(name),
			Owners: [2]uint64{OwnerHash(fmt.Sprint(17841400000000000 + i)), 0},
			Scopes: scopes[i%2],
		}}
	}
	return recs
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
