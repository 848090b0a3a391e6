package graph

import (
	"encoding/json"
	"fmt"
	"time"
)

// The decoders below turn a successful response body into the package's
// types. They are pure functions of the body so that they can be fuzzed;
// errors wrap ErrMalformedResponse and never quote the body.

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedResponse}, args...)...)
}

type shortLivedJSON struct {
	AccessToken string   `json:"access_token"`
	UserID      flexID   `json:"user_id"`
	Permissions flexList `json:"permissions"`
}

// decodeShortLived decodes api.instagram.com's code exchange answer, in the
// documented envelope {"data":[{...}]} or flat, as real traffic shows.
func decodeShortLived(body []byte) (*ShortLivedToken, error) {
	var top struct {
		Data json.RawMessage `json:"data"`
		shortLivedJSON
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, malformed("code exchange: %v", err)
	}
	tok := top.shortLivedJSON
	if !isNull(top.Data) {
		// The envelope is documented as an array of one; accept a bare
		// object too rather than fail on a harmless variation.
		var items []shortLivedJSON
		if err := json.Unmarshal(top.Data, &items); err != nil {
			var one shortLivedJSON
			if err2 := json.Unmarshal(top.Data, &one); err2 != nil {
				return nil, malformed("code exchange data: %v", err)
			}
			items = []shortLivedJSON{one}
		}
		if len(items) == 0 {
			return nil, malformed("code exchange: empty data")
		}
		tok = items[0]
	}
	if tok.AccessToken == "" {
		return nil, malformed("code exchange: no access_token")
	}
	if err := checkBounds("code exchange", bounded{"access_token", tok.AccessToken, MaxTokenLength}, bounded{"user_id", string(tok.UserID), maxIDLength}); err != nil {
		return nil, err
	}
	if err := checkScopeList("code exchange", "permissions", tok.Permissions); err != nil {
		return nil, err
	}
	return &ShortLivedToken{
		AccessToken: tok.AccessToken,
		UserID:      string(tok.UserID),
		Permissions: []string(tok.Permissions),
	}, nil
}

// MaxExpiresIn bounds the lifetime a token answer may state (expires_in):
// ten years, far beyond any token Meta issues (60 days; tokens that do not
// expire state none) and far inside time.Duration's 292 years. Past it, or
// below zero, the answer is malformed: trusting it would store an expiry in
// the past or centuries ahead, or overflow computing it.
const MaxExpiresIn = 10 * 365 * 24 * time.Hour

// checkExpiresIn refuses a lifetime outside [0, MaxExpiresIn]. The error
// names the field, not the value's neighbours in the body (the token).
func checkExpiresIn(sec int64) error {
	if sec < 0 || sec > int64(MaxExpiresIn/time.Second) {
		return malformed("token: expires_in out of range (negative, or more than ten years)")
	}
	return nil
}

// decodeLongLived decodes {"access_token","token_type","expires_in"}.
func decodeLongLived(body []byte) (*LongLivedToken, error) {
	var v struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, malformed("token: %v", err)
	}
	if v.AccessToken == "" {
		return nil, malformed("token: no access_token")
	}
	var expiresIn flexInt
	if !isNull(v.ExpiresIn) {
		if err := json.Unmarshal(v.ExpiresIn, &expiresIn); err != nil {
			return nil, malformed("token: expires_in: %v", err)
		}
	}
	if err := checkExpiresIn(int64(expiresIn)); err != nil {
		return nil, err
	}
	if err := checkBounds("token", bounded{"access_token", v.AccessToken, MaxTokenLength}, bounded{"token_type", v.TokenType, maxTypeLength}); err != nil {
		return nil, err
	}
	return &LongLivedToken{AccessToken: v.AccessToken, TokenType: v.TokenType, ExpiresIn: int64(expiresIn)}, nil
}

// decodeUser decodes /me.
func decodeUser(body []byte) (*User, error) {
	var v struct {
		ID          flexID `json:"id"`
		UserID      flexID `json:"user_id"`
		Username    string `json:"username"`
		Name        string `json:"name"`
		AccountType string `json:"account_type"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, malformed("me: %v", err)
	}
	if v.ID == "" && v.UserID == "" {
		return nil, malformed("me: neither id nor user_id")
	}
	if err := checkBounds("me", bounded{"id", string(v.ID), maxIDLength}, bounded{"user_id", string(v.UserID), maxIDLength},
		bounded{"username", v.Username, maxNameLength}, bounded{"name", v.Name, maxNameLength}, bounded{"account_type", v.AccountType, maxTypeLength}); err != nil {
		return nil, err
	}
	return &User{ID: string(v.ID), UserID: string(v.UserID), Username: v.Username, Name: v.Name, AccountType: v.AccountType}, nil
}

// decodePages decodes one page of me/accounts. after is the cursor of the
// next page, "" on the last one (Meta sends cursors on every page but
// "next" only when more follow).
func decodePages(body []byte) (pages []Page, after string, err error) {
	var v struct {
		Data []struct {
			ID          flexID `json:"id"`
			Name        string `json:"name"`
			AccessToken string `json:"access_token"`
			IGAccount   *struct {
				ID flexID `json:"id"`
			} `json:"instagram_business_account"`
		} `json:"data"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, "", malformed("pages: %v", err)
	}
	pages = make([]Page, 0, len(v.Data))
	for _, d := range v.Data {
		if d.ID == "" {
			return nil, "", malformed("pages: a page without id")
		}
		p := Page{ID: string(d.ID), Name: d.Name, AccessToken: d.AccessToken}
		if d.IGAccount != nil {
			p.InstagramBusinessAccountID = string(d.IGAccount.ID)
		}
		if err := checkBounds("pages", bounded{"id", p.ID, maxIDLength}, bounded{"name", p.Name, maxNameLength},
			bounded{"access_token", p.AccessToken, MaxTokenLength}, bounded{"instagram_business_account", p.InstagramBusinessAccountID, maxIDLength}); err != nil {
			return nil, "", err
		}
		pages = append(pages, p)
	}
	if v.Paging.Next != "" {
		after = v.Paging.Cursors.After
	}
	if err := checkBounds("pages", bounded{"paging cursor after", after, maxCursor}); err != nil {
		return nil, "", err
	}
	return pages, after, nil
}

// decodeTokenInfo decodes debug_token's {"data":{...}}, with its times
// bounded against now (checkMetaTime). TokenInfo.Error is not redacted
// here; the caller knows the secrets.
func decodeTokenInfo(body []byte, now time.Time) (*TokenInfo, error) {
	var v struct {
		Data *struct {
			AppID               flexID          `json:"app_id"`
			Type                string          `json:"type"`
			UserID              flexID          `json:"user_id"`
			IsValid             bool            `json:"is_valid"`
			ExpiresAt           json.RawMessage `json:"expires_at"`
			DataAccessExpiresAt json.RawMessage `json:"data_access_expires_at"`
			IssuedAt            json.RawMessage `json:"issued_at"`
			Scopes              flexList        `json:"scopes"`
			Error               json.RawMessage `json:"error"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, malformed("debug_token: %v", err)
	}
	if v.Data == nil {
		return nil, malformed("debug_token: no data")
	}
	d := v.Data
	if err := checkBounds("debug_token", bounded{"app_id", string(d.AppID), maxIDLength}, bounded{"type", d.Type, maxTypeLength},
		bounded{"user_id", string(d.UserID), maxIDLength}); err != nil {
		return nil, err
	}
	if err := checkScopeList("debug_token", "scopes", d.Scopes); err != nil {
		return nil, err
	}
	info := &TokenInfo{
		AppID:   string(d.AppID),
		Type:    d.Type,
		UserID:  string(d.UserID),
		IsValid: d.IsValid,
		Scopes:  []string(d.Scopes),
	}
	for _, t := range []struct {
		field string
		raw   json.RawMessage
		into  *time.Time
	}{
		{"expires_at", d.ExpiresAt, &info.ExpiresAt},
		{"data_access_expires_at", d.DataAccessExpiresAt, &info.DataAccessExpiresAt},
		{"issued_at", d.IssuedAt, &info.IssuedAt},
	} {
		at, err := metaTime("debug_token", t.field, t.raw, now)
		if err != nil {
			return nil, err
		}
		*t.into = at
	}
	if !isNull(d.Error) {
		// debug_token's error object spells the subcode "subcode", not
		// "error_subcode"; errorFromObject accepts both.
		info.Error = errorFromObject(0, d.Error)
	}
	return info, nil
}

// metaTime reads a time Meta states in Unix seconds (a JSON number or a
// string holding one; absent or null is 0) and bounds it as expires_in is
// bounded: 0 is Meta's "never" (or "not reported") and gives the zero
// time; a negative time, or one more than MaxExpiresIn (ten years) after
// now, is malformed. Unbounded, such a time could not be stored (JSON
// holds years up to 9999) nor kept in the schedule's int64 nanoseconds
// (up to 2262). The error names the field, never the value.
func metaTime(what, field string, raw json.RawMessage, now time.Time) (time.Time, error) {
	var sec flexInt
	if !isNull(raw) {
		if err := json.Unmarshal(raw, &sec); err != nil {
			return time.Time{}, malformed("%s: %s is not a whole number of seconds", what, field)
		}
	}
	switch {
	case sec == 0:
		return time.Time{}, nil
	case sec < 0 || int64(sec) > now.Add(MaxExpiresIn).Unix():
		return time.Time{}, malformed("%s: %s out of range (negative, or more than ten years ahead)", what, field)
	}
	return time.Unix(int64(sec), 0).UTC(), nil
}

// Bounds on the strings a successful answer carries that the engine keeps.
// The whole answer is read up to 1 MiB; within it, a string past its bound
// is a malformed answer naming the field (never quoting it), not an account
// record, a log line or a callback page of up to a megabyte.
const (
	// MaxTokenLength bounds a token Meta issues: a few hundred characters
	// in practice, and what accounts/<name> accepts from an operator.
	MaxTokenLength = 4096
	maxIDLength    = 64   // decimal ids run to 20 digits
	maxNameLength  = 1024 // usernames (30), names and Page names (a few hundred at most)
	maxTypeLength  = 64   // token_type, account_type, debug_token's type
	maxScopes      = 256  // Meta has about a hundred permissions
	maxScopeLength = 128
	maxCursor      = 4096 // a paging cursor, sent back on the next call
)

// bounded is one string an answer carried and its bound.
type bounded struct {
	field string
	value string
	max   int
}

// checkBounds refuses the first string past its bound, naming its field
// in what (the endpoint).
func checkBounds(what string, fields ...bounded) error {
	for _, f := range fields {
		if len(f.value) > f.max {
			return malformed("%s: %s longer than %d bytes", what, f.field, f.max)
		}
	}
	return nil
}

// checkScopeList bounds a list of permission names.
func checkScopeList(what, field string, scopes []string) error {
	if len(scopes) > maxScopes {
		return malformed("%s: %s lists more than %d", what, field, maxScopes)
	}
	for _, sc := range scopes {
		if len(sc) > maxScopeLength {
			return malformed("%s: %s holds one longer than %d bytes", what, field, maxScopeLength)
		}
	}
	return nil
}
