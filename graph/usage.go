package graph

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Usage is Meta's report of how close the app is to its rate limits, in
// percent of the limit (100 means throttled), the highest figure across the
// usage headers and business use cases; RegainAccess is how long until
// calls are allowed again, when Meta says so.
type Usage struct {
	CallCount, TotalTime, TotalCPUTime int
	RegainAccess                       time.Duration
}

// usageFigures is one usage report, in the shape every header shares.
type usageFigures struct {
	CallCount    flexInt `json:"call_count"`
	TotalTime    flexInt `json:"total_time"`
	TotalCPUTime flexInt `json:"total_cputime"`
	RegainMin    flexInt `json:"estimated_time_to_regain_access"`
}

// maxRegainMinutes bounds estimated_time_to_regain_access (one week; Meta's
// throttles last minutes to hours).
const maxRegainMinutes = 7 * 24 * 60

func (u *Usage) add(f usageFigures) {
	u.CallCount = max(u.CallCount, int(f.CallCount))
	u.TotalTime = max(u.TotalTime, int(f.TotalTime))
	u.TotalCPUTime = max(u.TotalCPUTime, int(f.TotalCPUTime))
	// Clamped so that a nonsense figure cannot overflow the Duration.
	minutes := min(max(int64(f.RegainMin), 0), maxRegainMinutes)
	u.RegainAccess = max(u.RegainAccess, time.Duration(minutes)*time.Minute)
}

// parseUsage reads X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage.
// Meta adds them only once an app has made enough calls, so absence is
// normal (nil); an unreadable header is skipped rather than failing the
// call it came with.
func parseUsage(h http.Header) *Usage {
	var u Usage
	found := false
	for _, name := range []string{"X-App-Usage", "X-Page-Usage"} {
		var f usageFigures
		if v := h.Get(name); v != "" && json.Unmarshal([]byte(v), &f) == nil {
			u.add(f)
			found = true
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var byID map[string][]usageFigures
		if json.Unmarshal([]byte(v), &byID) == nil {
			for _, list := range byID {
				for _, f := range list {
					u.add(f)
					found = true
				}
			}
		}
	}
	if !found {
		return nil
	}
	return &u
}

// MaxRetryAfter caps how long one answer from Meta can make a caller wait.
// Meta's throttles last minutes to hours; an answer asking for more (ten
// years, or more seconds than a time.Duration holds) is a fault, and on an
// app-wide throttle (code 4) it would stop every call for that long. Past a
// day, trying again costs one call that Meta refuses.
const MaxRetryAfter = 24 * time.Hour

// retryAfter is the Retry-After header in seconds (Meta does not send the
// HTTP-date form), else the usage's time to regain access, else 0; never
// more than MaxRetryAfter.
func retryAfter(h http.Header, u *Usage) time.Duration {
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && s > 0 {
		// Compared in seconds: s·time.Second may not fit a Duration.
		return time.Duration(min(s, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if u != nil {
		return min(u.RegainAccess, MaxRetryAfter)
	}
	return 0
}
