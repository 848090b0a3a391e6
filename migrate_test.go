package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// What each migration step changes in a record of the version it reads, as
// JSON keys and the values they take: one entry per step, so a step added
// without saying here what it does fails TestMigrationHistoryIsComplete.
var (
	accountStepChanges = []map[string]any{
		{"status": statusValid},
		{"token_kind": tokenKindUser},
	}
	configStepChanges = []map[string]any{
		{},
	}
)

// storedRecord is one file of testdata/storage: a record as a version of
// the plugin wrote it.
type storedRecord struct {
	file    string
	version int
	raw     []byte
}

var storedRecordName = regexp.MustCompile(`^(account|config)-v([0-9]+)(-[a-z0-9-]+)?\.json$`)

// storedRecords reads testdata/storage's records of kind (account, config).
func storedRecords(t *testing.T, kind string) []storedRecord {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "storage", kind+"-v*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []storedRecord
	for _, f := range files {
		m := storedRecordName.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			t.Fatalf("%s: not named %s-v<version>[-what].json", f, kind)
		}
		v, _ := strconv.Atoi(m[2])
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, storedRecord{file: filepath.Base(f), version: v, raw: raw})
	}
	return out
}

// jsonFields is a record's JSON object.
func jsonFields(t *testing.T, v any) map[string]any {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// changedFields is what differs from before to after, with after's values.
func changedFields(before, after map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range after {
		if !reflect.DeepEqual(before[k], v) {
			out[k] = v
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out[k] = nil
		}
	}
	return out
}

// TestMigrationHistoryIsComplete: the current versions are the number of
// steps, every step says what it changes (above), and testdata/storage has
// a record of every version, named after the version it carries.
func TestMigrationHistoryIsComplete(t *testing.T) {
	for _, c := range []struct {
		kind    string
		current int
		steps   int
		changes int
	}{
		{"account", accountSchemaVersion, len(accountMigrations), len(accountStepChanges)},
		{"config", configSchemaVersion, len(configMigrations), len(configStepChanges)},
	} {
		if c.current != c.steps || c.changes != c.steps {
			t.Errorf("%s: version %d, %d migration steps, %d step expectations: all three must agree", c.kind, c.current, c.steps, c.changes)
		}
		seen := map[int]bool{}
		for _, r := range storedRecords(t, c.kind) {
			seen[r.version] = true
			got, _ := jsonFields(t, r.raw)["schema_version"].(float64)
			if int(got) != r.version {
				t.Errorf("%s carries schema_version %v, its name says %d", r.file, got, r.version)
			}
		}
		for v := 0; v <= c.current; v++ {
			if !seen[v] {
				t.Errorf("testdata/storage has no %s record of version %d: keep one of every version ever written", c.kind, v)
			}
		}
	}
}

// TestMigrationSteps runs each step alone on the stored records of the
// version it reads: it changes exactly what it says, and nothing else.
func TestMigrationSteps(t *testing.T) {
	for _, r := range storedRecords(t, "account") {
		if r.version >= len(accountMigrations) {
			continue
		}
		a := &account{}
		if err := json.Unmarshal(r.raw, a); err != nil {
			t.Fatal(err)
		}
		before := jsonFields(t, a)
		accountMigrations[r.version].apply(a)
		if got, want := changedFields(before, jsonFields(t, a)), accountStepChanges[r.version]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: step %q changed %v, want %v", r.file, accountMigrations[r.version].what, got, want)
		}
	}
	for _, r := range storedRecords(t, "config") {
		if r.version >= len(configMigrations) {
			continue
		}
		c := defaultConfig()
		if err := json.Unmarshal(r.raw, c); err != nil {
			t.Fatal(err)
		}
		before := jsonFields(t, c)
		configMigrations[r.version].apply(c)
		if got, want := changedFields(before, jsonFields(t, c)), configStepChanges[r.version]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: step %q changed %v, want %v", r.file, configMigrations[r.version].what, got, want)
		}
	}
}

// stepChangesFrom is every key the steps from version on may change.
func stepChangesFrom(version int, changes []map[string]any) map[string]bool {
	out := map[string]bool{"schema_version": true}
	for v := version; v < len(changes); v++ {
		for k := range changes[v] {
			out[k] = true
		}
	}
	return out
}

// TestStoredAccountsOfEveryVersion reads every stored account record with
// today's code, as after an upgrade: it is read at the current version with
// every stored field as it was (but for what the steps change), served, and
// its next save writes the current version and keeps every field.
func TestStoredAccountsOfEveryVersion(t *testing.T) {
	for _, r := range storedRecords(t, "account") {
		t.Run(r.file, func(t *testing.T) {
			e := newTestEnv(t)
			if jsonFields(t, r.raw)["login"] == loginFacebook {
				e.configure(map[string]any{"login": loginFacebook})
			} else {
				e.configure(nil)
			}
			ctx := context.Background()
			file := jsonFields(t, r.raw)
			name := file["name"].(string)
			if err := e.storage.Put(ctx, &logical.StorageEntry{Key: accountStoragePrefix + name, Value: r.raw}); err != nil {
				t.Fatal(err)
			}

			a, err := loadAccount(ctx, e.storage, name)
			if err != nil || a == nil {
				t.Fatalf("loadAccount: %v, %v", a, err)
			}
			if a.SchemaVersion != accountSchemaVersion {
				t.Errorf("read at schema_version %d, want %d", a.SchemaVersion, accountSchemaVersion)
			}
			mayChange := stepChangesFrom(r.version, accountStepChanges)
			read := jsonFields(t, a)
			for k, v := range file {
				if !mayChange[k] && !reflect.DeepEqual(read[k], v) {
					t.Errorf("field %s read as %v, stored %v", k, read[k], v)
				}
			}
			for k, v := range changedFields(file, read) {
				if !mayChange[k] && v != nil && !reflect.DeepEqual(v, jsonFields(t, &account{})[k]) {
					t.Errorf("field %s, absent from the record, read as %v", k, v)
				}
			}

			// Served as it is, to operators and applications.
			meta := e.mustOK(e.read("accounts/" + name)).Data
			if meta["status"] != a.Status || meta["user_id"] != file["user_id"] {
				t.Errorf("accounts/%s = %v", name, meta)
			}
			if got := e.mustOK(e.read("token/" + name)).Data["access_token"]; got != file["access_token"] {
				t.Errorf("token/%s does not serve the stored token", name)
			}

			// The next save stores the current version, every field kept.
			unlock := e.b.lockAccount(name)
			err = e.b.saveAccount(ctx, e.storage, a.clone())
			unlock()
			if err != nil {
				t.Fatal(err)
			}
			entry, err := e.storage.Get(ctx, accountStoragePrefix+name)
			if err != nil || entry == nil {
				t.Fatalf("saved record: %v, %v", entry, err)
			}
			saved := jsonFields(t, entry.Value)
			if saved["schema_version"] != float64(accountSchemaVersion) {
				t.Errorf("saved at schema_version %v, want %d", saved["schema_version"], accountSchemaVersion)
			}
			for k, v := range file {
				if !mayChange[k] && !reflect.DeepEqual(saved[k], v) {
					t.Errorf("field %s saved as %v, stored %v", k, saved[k], v)
				}
			}
			for k, v := range accountStepChangesApplied(r.version) {
				if !reflect.DeepEqual(saved[k], v) {
					t.Errorf("field %s saved as %v, want %v (a migration step)", k, saved[k], v)
				}
			}
		})
	}
}

// accountStepChangesApplied is what the steps from version on set, for a
// record that needed them: the records in testdata/storage all do.
func accountStepChangesApplied(version int) map[string]any {
	out := map[string]any{}
	for v := version; v < len(accountStepChanges); v++ {
		for k, val := range accountStepChanges[v] {
			out[k] = val
		}
	}
	return out
}

// TestStoredConfigsOfEveryVersion reads every stored config record with
// today's code: the current version, every stored field as it was, every
// field the record lacks at its default; the next write stores the current
// version and changes only what it writes.
func TestStoredConfigsOfEveryVersion(t *testing.T) {
	defaults := jsonFields(t, defaultConfig())
	for _, r := range storedRecords(t, "config") {
		t.Run(r.file, func(t *testing.T) {
			e := newTestEnv(t)
			ctx := context.Background()
			if err := e.storage.Put(ctx, &logical.StorageEntry{Key: configStoragePath, Value: r.raw}); err != nil {
				t.Fatal(err)
			}
			cfg, err := e.b.readConfig(ctx, e.storage)
			if err != nil || cfg == nil {
				t.Fatalf("readConfig: %v, %v", cfg, err)
			}
			if cfg.SchemaVersion != configSchemaVersion {
				t.Errorf("read at schema_version %d, want %d", cfg.SchemaVersion, configSchemaVersion)
			}
			file := jsonFields(t, r.raw)
			mayChange := stepChangesFrom(r.version, configStepChanges)
			read := jsonFields(t, cfg)
			for k, v := range read {
				want, stored := file[k]
				if !stored {
					want = defaults[k]
				}
				if !mayChange[k] && !reflect.DeepEqual(v, want) {
					t.Errorf("field %s read as %v, want %v (stored: %v)", k, v, want, stored)
				}
			}
			for k := range file {
				if _, ok := read[k]; !ok {
					t.Errorf("stored field %s is not read any more", k)
				}
			}
			if got := e.mustOK(e.read("config")).Data["app_id"]; got != file["app_id"] {
				t.Errorf("config app_id = %v, stored %v", got, file["app_id"])
			}

			// A write of one field stores the current version and keeps
			// the rest.
			e.mustOK(e.write("config", map[string]any{"max_token_ttl": 600}))
			entry, err := e.storage.Get(ctx, configStoragePath)
			if err != nil || entry == nil {
				t.Fatalf("written config: %v, %v", entry, err)
			}
			saved := jsonFields(t, entry.Value)
			if saved["schema_version"] != float64(configSchemaVersion) {
				t.Errorf("written at schema_version %v, want %d", saved["schema_version"], configSchemaVersion)
			}
			var changed []string
			for k := range changedFields(read, saved) {
				changed = append(changed, k)
			}
			sort.Strings(changed)
			if fmt.Sprint(changed) != "[max_token_ttl]" {
				t.Errorf("a write of max_token_ttl changed %v", changed)
			}
		})
	}
}
