package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// Meta sends the same field with different JSON types depending on the host
// and the day: ids as strings or numbers, expires_in as a number or a
// string, permissions as a comma string or an array. These types accept each
// form and never pass a number through float64, which would change ids above
// 2^53 (27640875392278831 would come back as 27640875392278832).

// flexID is an id sent as a JSON string or a JSON integer; it holds the
// decimal text exactly.
type flexID string

func (s *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexID(strings.TrimSpace(v))
		return nil
	case isJSONInteger(b):
		*s = flexID(b)
		return nil
	}
	return errors.New("id is neither a string nor an integer")
}

// isJSONInteger reports whether b is an optionally negative run of digits,
// the only number literal an id can be.
func isJSONInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// flexInt is an integer sent as a JSON number or a JSON string. A number
// with a fraction or exponent is accepted when it is whole (5183944.0).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			*n = 0
			return nil
		}
	}
	v, err := parseWholeNumber(text)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// parseWholeNumber parses text as an int64, accepting a float form only when
// it is whole and in range.
func parseWholeNumber(text string) (int64, error) {
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) ||
		f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, errors.New("number is not an integer")
	}
	return int64(f), nil
}

// flexList is a list of names sent as an array of strings or as one
// comma-separated string. Blank entries are dropped.
type flexList []string

func (l *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var parts []string
	switch {
	case string(b) == "null":
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parts = strings.Split(s, ",")
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
	default:
		return errors.New("list is neither a string nor an array of strings")
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*l = out
	return nil
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
