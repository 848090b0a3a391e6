package instagram

import hclog "github.com/hashicorp/go-hclog"

// crashAfterIndexWrite is the point in saveAccount between the schedule
// index write and the account write.
const crashAfterIndexWrite = "after-index-write"

// crashAfterAccountWrite is the point in saveAccount after the account
// write, before its notification is handed to delivery: a crash there
// leaves the status change stored and its event undelivered (e2e/ha's
// notification crash test).
const crashAfterAccountWrite = "after-account-write"

// crashPointFunc, when a backend has one, is called at named points of its
// writes: e2e/ha's crash test builds the plugin with the crashpoints tag
// (crashpoint_on.go) to stop a write there and kill Vault. Release builds
// have none (crashpoint_off.go).
type crashPointFunc func(log hclog.Logger, point, account string)
