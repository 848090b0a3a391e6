package instagram

// The storage format's history. Every stored record (an account, the
// config) carries schema_version, the format its writer used. Reading a
// record runs, in order, the migration steps from its version to the
// current one, in memory; the next save stores the current format. So a
// format change is one more step at the end of a list, and a Vault upgraded
// over several versions reads the oldest record the same way.
//
// testdata/storage holds a record of every version ever written; the tests
// run each step on those, and read each with today's code.

// migration upgrades a record by one version: steps[v] takes a record of
// version v to version v+1, so the current version is len(steps).
type migration[T any] struct {
	// what the step changes, and why.
	what  string
	apply func(*T)
}

// upgrade runs the steps a record of version needs, and returns the version
// it is then. A record of a newer version than this code knows (read after
// a roll-back) is left as it is: its fields this code does not know are
// lost at its next save, the ones it knows are read as they are.
func upgrade[T any](rec *T, version int, steps []migration[T]) int {
	for v := version; v < len(steps); v++ {
		steps[v].apply(rec)
	}
	return max(version, len(steps))
}

// accountSchemaVersion is the format saveAccount writes: len(accountMigrations).
const accountSchemaVersion = 2

var accountMigrations = []migration[account]{
	{
		what: "0 → 1: a record from before schema_version may lack a status: a working account, valid",
		apply: func(a *account) {
			a.migrateStatus()
		},
	},
	{
		what: "1 → 2: token_kind: before Facebook Login for Business every token was a user's",
		apply: func(a *account) {
			if a.TokenKind == "" {
				a.TokenKind = tokenKindUser
			}
		},
	},
}

// migrateAccount brings a's record, as decoded, to the current format.
func migrateAccount(a *account) {
	a.SchemaVersion = upgrade(a, a.SchemaVersion, accountMigrations)
}

// configSchemaVersion is the format writeConfig stores: len(configMigrations).
const configSchemaVersion = 1

var configMigrations = []migration[config]{
	{
		// Configs before schema_version only ever gained fields, and a
		// field a stored config lacks reads as its default (readConfig
		// decodes over defaultConfig), as in every version.
		what:  "0 → 1: schema_version recorded; nothing else changes",
		apply: func(*config) {},
	},
}

// migrateConfig brings cfg's record, as decoded, to the current format.
func migrateConfig(cfg *config) {
	cfg.SchemaVersion = upgrade(cfg, cfg.SchemaVersion, configMigrations)
}
