package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestAccountWithoutSchemaVersionIsMigrated stores an account record as a
// version before schema_version existed wrote it (no schema_version, no
// status), then starts the backend on that storage as Vault does after an
// upgrade: the record is read, served and scheduled, and the next save
// writes the current format.
func TestAccountWithoutSchemaVersionIsMigrated(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	ctx := context.Background()

	u := e.meta.AddUser("legacy_owner")
	// 40 days old: due for refresh (20 days left, 30-day window).
	issued := e.clock.Now().Add(-40 * 24 * time.Hour)
	tok := e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, issued)
	e.secrets = append(e.secrets, tok)

	// The record as such a version stored it (testdata/storage), with the
	// fake's fresh token and user in place of the ones it was written with.
	// The field names are the storage format: a renamed JSON tag would
	// make records written by older versions unreadable, and fail here.
	raw, err := os.ReadFile(filepath.Join("testdata", "storage", "account-v0-instagram.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["issued_at"] != issued.Format(time.RFC3339) || fields["expires_at"] != issued.Add(longLivedLifetime).Format(time.RFC3339) {
		t.Fatalf("account-v0-instagram.json: issued_at %v expires_at %v, want 40 days before the test clock and 60 days later", fields["issued_at"], fields["expires_at"])
	}
	if _, ok := fields["schema_version"]; ok {
		t.Fatal("account-v0-instagram.json carries a schema_version")
	}
	if _, ok := fields["status"]; ok {
		t.Fatal("account-v0-instagram.json carries a status")
	}
	fields["access_token"], fields["user_id"] = tok, u.UserID
	oldJSON, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	old := string(oldJSON)
	if err := e.storage.Put(ctx, &logical.StorageEntry{Key: accountStoragePrefix + "legacy", Value: []byte(old)}); err != nil {
		t.Fatal(err)
	}

	a, err := loadAccount(ctx, e.storage, "legacy")
	if err != nil || a == nil {
		t.Fatalf("loadAccount: %v, %v", a, err)
	}
	if a.SchemaVersion != accountSchemaVersion || a.Status != statusValid {
		t.Errorf("migrated record: schema_version %d status %q, want %d %q", a.SchemaVersion, a.Status, accountSchemaVersion, statusValid)
	}
	if a.AccessToken != tok || a.UserID != u.UserID || a.Username != "legacy_owner" ||
		!a.ExpiresAt.Equal(issued.Add(longLivedLifetime)) || !a.IssuedAt.Equal(issued) ||
		len(a.Scopes) != 1 || a.Scopes[0] != "instagram_business_basic" {
		t.Errorf("migrated record lost fields: %+v", a)
	}

	// A version before the schedule index stored no index: take away the
	// one newTestEnv's start-up built for the empty mount.
	e.dropScheduleIndex()

	// What a new plugin process does at start: build the schedule from
	// storage.
	if err := e.b.Initialize(ctx, &logical.InitializationRequest{Storage: e.storage}); err != nil {
		t.Fatal(err)
	}
	e.b.bgWG.Wait() // the schedule is built in the background
	st := e.mustOK(e.read("status")).Data
	if fmt.Sprint(st["accounts_total"]) != "1" || fmt.Sprint(st["accounts_valid"]) != "1" {
		t.Errorf("status after start-up on the old record: %v", st)
	}
	if got := e.mustOK(e.read("token/legacy")).Data["access_token"]; got != tok {
		t.Error("token/legacy does not serve the old record's token")
	}
	if got := e.mustOK(e.read("accounts/legacy")).Data["status"]; got != statusValid {
		t.Errorf("accounts/legacy status = %v, want %s", got, statusValid)
	}
	// Reads migrate in memory only; storage is rewritten by the next save.
	if entry, _ := e.storage.Get(ctx, accountStoragePrefix+"legacy"); entry == nil || string(entry.Value) != old {
		t.Error("a read rewrote the stored record")
	}

	// The periodic run refreshes it (it is due) and saves the new format.
	e.tick()
	entry, err := e.storage.Get(ctx, accountStoragePrefix+"legacy")
	if err != nil || entry == nil {
		t.Fatalf("stored record after the refresh: %v, %v", entry, err)
	}
	var stored map[string]any
	if err := json.Unmarshal(entry.Value, &stored); err != nil {
		t.Fatal(err)
	}
	if stored["schema_version"] != float64(accountSchemaVersion) || stored["status"] != statusValid {
		t.Errorf("saved record: schema_version %v status %v, want %d %s", stored["schema_version"], stored["status"], accountSchemaVersion, statusValid)
	}
	newTok := e.meta.CurrentToken(u.UserID)
	e.secrets = append(e.secrets, newTok)
	if newTok == tok || stored["access_token"] != newTok {
		t.Error("the periodic run did not refresh and save the migrated account")
	}
}
