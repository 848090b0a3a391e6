package schedule

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestIndexRecordKeepsEveryTimingField: a record carries every field of a
// Account, so that a schedule built from the index equals one built from the
// accounts. A field added to Account and not to the encoding fails here.
func TestIndexRecordKeepsEveryTimingField(t *testing.T) {
	const name = "some.account_1"
	var in Account
	v := reflect.ValueOf(&in).Elem()
	base := time.Date(2026, 3, 4, 5, 6, 7, 891011, time.UTC)
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(base.Add(time.Duration(i) * time.Hour)))
		case v.Type().Field(i).Name == "CheckOffset":
			f.Set(reflect.ValueOf(CheckOffset(name)))
		case v.Type().Field(i).Name == "Status":
			f.SetString(StatusRefreshFailing)
		case v.Type().Field(i).Name == "Login":
			f.SetString(LoginFacebook)
		case f.Kind() == reflect.Array:
			for j := range f.Len() {
				f.Index(j).SetUint(uint64(0x1234567890abcdef + j))
			}
		case v.Type().Field(i).Name == "Scopes":
			f.Set(reflect.ValueOf([]string{"instagram_business_basic", "a_scope", "instagram_business_basic_x"}))
		default:
			t.Fatalf("Account.%s (%s): the index does not store it; add it to appendRecord and decodeShard", v.Type().Field(i).Name, f.Type())
		}
	}
	for _, pending := range []bool{false, true} {
		recs := []Record{{Name: name, Account: in, Pending: pending}, {Name: "other", Account: Account{Status: "some_new_status", Login: "other_login", Scopes: []string{"a_scope"}}}}
		out, err := DecodeShard(EncodeShard(slices.Clone(recs)))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 2 || !reflect.DeepEqual(out[1], recs[0]) {
			t.Fatalf("round trip:\n in %+v\nout %+v", recs[0], out)
		}
		if out[0].Name != "other" || out[0].Account.Status != "some_new_status" || out[0].Account.Login != "other_login" || out[0].Account.CheckOffset != CheckOffset("other") {
			t.Fatalf("a record of unknown status and login: %+v", out[0])
		}
	}
	for _, bad := range [][]byte{nil, {2}, {ShardFormat, 5}, append(EncodeShard([]Record{{Name: "x"}}), 0)} {
		var de *ShardDecodeError
		if _, err := DecodeShard(bad); !errors.As(err, &de) {
			t.Errorf("DecodeShard(%x): %v, want an ShardDecodeError", bad, err)
		}
	}
}

// TestShardLoginCodesOnlyGrow: a login's code in a stored shard is its
// position in shardLogins, so logins are only ever appended: Instagram 0,
// Facebook 1, Threads 2.
func TestShardLoginCodesOnlyGrow(t *testing.T) {
	for want, l := range []string{LoginInstagram, LoginFacebook, LoginThreads} {
		if got := appendCode(nil, l, shardLogins); len(got) != 1 || int(got[0]) != want {
			t.Errorf("%s's code is %x, want %02x", l, got, want)
		}
	}
}
