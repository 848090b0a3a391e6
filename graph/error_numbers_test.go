package graph

import "testing"

// TestErrorNumbersThatAreNoIntegerReadAsZero: Meta's error code and
// subcode are integers; one that is not (a fraction, an exponent past
// int64, a number in a string past int64, a non-number) reads as 0,
// never as a wrapped or saturated code that would classify the error
// (code 190 would mark an account needs_reauth), and the rest of the
// error is kept.
func TestErrorNumbersThatAreNoIntegerReadAsZero(t *testing.T) {
	for _, body := range []string{
		`{"error":{"code":1e400,"error_subcode":"99999999999999999999","message":"m","type":"T"}}`,
		`{"error":{"code":190.5,"error_subcode":[463],"message":"m","type":"T"}}`,
		`{"error":{"code":"18446744073709551806","error_subcode":{"a":1},"message":"m","type":"T"}}`,
	} {
		e := parseError(400, nil, []byte(body), nil)
		if e == nil || e.Code != 0 || e.Subcode != 0 || e.Message != "m" || e.Type != "T" {
			t.Errorf("%s: %+v; want code and subcode 0, message and type kept", body, e)
		}
	}
	if e := parseError(400, nil, []byte(`{"error":{"code":"190","error_subcode":460.0,"message":"m"}}`), nil); e.Code != 190 || e.Subcode != 460 {
		t.Errorf("integers in other forms: %+v", e)
	}
}
