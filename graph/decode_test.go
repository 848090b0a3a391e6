package graph

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// bigID is above 2^53 and odd, so a float64 round trip changes it.
const bigID = "27640875392278831"

func TestDecodeShortLived(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *ShortLivedToken // nil: ErrMalformedResponse
	}{
		{"documented envelope", `{"data":[{"access_token":"IGAAx","user_id":"17841400000000000","permissions":"instagram_business_basic,instagram_business_manage_messages"}]}`,
			&ShortLivedToken{"IGAAx", "17841400000000000", []string{"instagram_business_basic", "instagram_business_manage_messages"}}},
		{"flat, numeric big user_id, array permissions", `{"access_token":"IGAAx","user_id":27640875392278831,"permissions":["instagram_business_basic"]}`,
			&ShortLivedToken{"IGAAx", bigID, []string{"instagram_business_basic"}}},
		{"envelope with numeric big user_id", `{"data":[{"access_token":"IGAAx","user_id":27640875392278831,"permissions":["a","b"]}]}`,
			&ShortLivedToken{"IGAAx", bigID, []string{"a", "b"}}},
		{"flat with string user_id and comma permissions", `{"access_token":"IGAAx","user_id":"27640875392278831","permissions":"a, b,,"}`,
			&ShortLivedToken{"IGAAx", bigID, []string{"a", "b"}}},
		{"envelope as a bare object", `{"data":{"access_token":"IGAAx","user_id":1}}`,
			&ShortLivedToken{"IGAAx", "1", nil}},
		{"null permissions", `{"access_token":"IGAAx","user_id":1,"permissions":null}`,
			&ShortLivedToken{"IGAAx", "1", nil}},
		{"empty permissions string", `{"access_token":"IGAAx","user_id":1,"permissions":""}`,
			&ShortLivedToken{"IGAAx", "1", []string{}}},
		{"null data falls back to flat", `{"data":null,"access_token":"IGAAx"}`,
			&ShortLivedToken{"IGAAx", "", nil}},
		{"empty data array", `{"data":[]}`, nil},
		{"no access_token", `{"user_id":1}`, nil},
		{"user_id float", `{"access_token":"x","user_id":2.7640875392278831e16}`, nil},
		{"user_id bool", `{"access_token":"x","user_id":true}`, nil},
		{"permissions number", `{"access_token":"x","permissions":5}`, nil},
		{"not JSON", `<html>`, nil},
		{"data not an object", `{"data":"x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeShortLived([]byte(tt.body))
			if tt.want == nil {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("got %+v, %v; want ErrMalformedResponse", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeLongLived(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int64
		wantErr bool
	}{
		{"integer", `{"access_token":"IGAAx","token_type":"bearer","expires_in":5183944}`, 5183944, false},
		{"string", `{"access_token":"IGAAx","token_type":"bearer","expires_in":"5183944"}`, 5183944, false},
		{"whole float", `{"access_token":"IGAAx","expires_in":5183944.0}`, 5183944, false},
		{"exponent", `{"access_token":"IGAAx","expires_in":5.183944e6}`, 5183944, false},
		{"absent: never expires", `{"access_token":"x|y","token_type":"bearer"}`, 0, false},
		{"null", `{"access_token":"x","expires_in":null}`, 0, false},
		{"empty string", `{"access_token":"x","expires_in":""}`, 0, false},
		{"fraction", `{"access_token":"x","expires_in":1.5}`, 0, true},
		{"negative", `{"access_token":"x","expires_in":-1}`, 0, true},
		{"garbage string", `{"access_token":"x","expires_in":"soon"}`, 0, true},
		{"huge", `{"access_token":"x","expires_in":1e30}`, 0, true},
		{"no token", `{"expires_in":5}`, 0, true},
		{"array", `[]`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeLongLived([]byte(tt.body))
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("got %+v, %v; want ErrMalformedResponse", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpiresIn != tt.want || got.AccessToken == "" {
				t.Fatalf("got %+v, want expires_in %d", got, tt.want)
			}
		})
	}
}

func TestDecodeUser(t *testing.T) {
	got, err := decodeUser([]byte(`{"id":9100000000000001,"user_id":"27640875392278831","username":"shop","name":"Shop","account_type":"BUSINESS"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &User{ID: "9100000000000001", UserID: bigID, Username: "shop", Name: "Shop", AccountType: "BUSINESS"}
	if *got != *want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, body := range []string{`{"username":"x"}`, `{"id":{}}`, `nope`} {
		if _, err := decodeUser([]byte(body)); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: err = %v, want ErrMalformedResponse", body, err)
		}
	}
}

func TestDecodePages(t *testing.T) {
	body := `{"data":[
		{"id":"104000000000001","name":"Shop Page","access_token":"EAAP1","instagram_business_account":{"id":27640875392278831}},
		{"id":104000000000003,"name":"Other","access_token":"EAAP2"}],
		"paging":{"cursors":{"before":"MA","after":"Mg"},"next":"https://graph.facebook.com/v25.0/me/accounts?after=Mg"}}`
	pages, after, err := decodePages([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Page{
		{ID: "104000000000001", Name: "Shop Page", AccessToken: "EAAP1", InstagramBusinessAccountID: bigID},
		{ID: "104000000000003", Name: "Other", AccessToken: "EAAP2"},
	}
	if !reflect.DeepEqual(pages, want) || after != "Mg" {
		t.Fatalf("got %+v after %q", pages, after)
	}
	// Cursors without "next" mean the last page.
	_, after, err = decodePages([]byte(`{"data":[],"paging":{"cursors":{"after":"Mg"}}}`))
	if err != nil || after != "" {
		t.Fatalf("last page: after %q, err %v", after, err)
	}
	for _, b := range []string{`{"data":[{"name":"no id"}]}`, `{"data":{}}`} {
		if _, _, err := decodePages([]byte(b)); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: err = %v", b, err)
		}
	}
}

func TestDecodeTokenInfo(t *testing.T) {
	// The times Meta states are bounded against a clock (metaTime); these
	// answers are from 2023-2024.
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("valid user token", func(t *testing.T) {
		info, err := decodeTokenInfo([]byte(`{"data":{"app_id":"1234567890","type":"USER","application":"App","data_access_expires_at":1707776000,
			"expires_at":1705184000,"is_valid":true,"issued_at":1700000000,"scopes":["instagram_basic","pages_show_list"],"user_id":"9100000000000001"}}`), now)
		if err != nil {
			t.Fatal(err)
		}
		want := &TokenInfo{AppID: "1234567890", Type: "USER", UserID: "9100000000000001", IsValid: true,
			ExpiresAt: time.Unix(1705184000, 0).UTC(), DataAccessExpiresAt: time.Unix(1707776000, 0).UTC(),
			IssuedAt: time.Unix(1700000000, 0).UTC(), Scopes: []string{"instagram_basic", "pages_show_list"}}
		if !reflect.DeepEqual(info, want) {
			t.Fatalf("got %+v\nwant %+v", info, want)
		}
	})
	t.Run("page token never expires", func(t *testing.T) {
		info, err := decodeTokenInfo([]byte(`{"data":{"app_id":1234567890,"type":"PAGE","expires_at":0,"is_valid":true,"issued_at":"1700000000","scopes":"a,b"}}`), now)
		if err != nil {
			t.Fatal(err)
		}
		if !info.ExpiresAt.IsZero() || info.IssuedAt.Unix() != 1700000000 || info.AppID != "1234567890" || len(info.Scopes) != 2 {
			t.Fatalf("got %+v", info)
		}
	})
	t.Run("invalid token carries the reason", func(t *testing.T) {
		info, err := decodeTokenInfo([]byte(`{"data":{"error":{"code":190,"subcode":463,"message":"Session has expired"},"is_valid":false,"scopes":[]}}`), now)
		if err != nil {
			t.Fatal(err)
		}
		if info.IsValid || info.Error == nil || info.Error.Code != 190 || info.Error.Subcode != 463 || Classify(info.Error) != ClassReauth {
			t.Fatalf("got %+v / %+v", info, info.Error)
		}
	})
	for _, b := range []string{`{}`, `{"data":null}`, `{"data":{"is_valid":"yes"}}`, `[`} {
		if _, err := decodeTokenInfo([]byte(b), now); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: err = %v", b, err)
		}
	}
}
