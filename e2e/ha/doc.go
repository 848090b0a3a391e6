// Package ha tests the plugin on a Vault HA cluster as operators run one:
// three real `vault server` processes on loopback with integrated Raft
// storage, initialised and unsealed (one key share), joined into one
// cluster, the plugin registered once by SHA-256 and version and mounted at
// instagram/, configured against an in-process fake of Meta's endpoints
// (package graph/graphtest) that also counts refreshes per Instagram user.
//
// The cluster survives the loss of its active node: the tests kill it with
// SIGKILL while refreshes are in flight, some before Meta and some whose
// answer Meta gave but the node never received, and check that every
// account keeps a token Meta accepts and that the new active node takes the
// refresh work over without losing a token or refreshing a stored one twice.
//
// TestServerKilledMidRefreshRestarts does the same to a single persistent
// server: killed mid-refresh, restarted on its storage and unsealed, it must
// have lost no account and finish the interrupted refreshes itself.
//
// The tests are behind the build tag ha; they take a few minutes, most of it
// waiting for Vault's once-a-minute periodic function. `make test-ha` builds
// Vault and the plugin and runs them with:
//
//	VAULT_BIN       the vault binary (default <user cache>/vault-plugin-secrets-instagram/vault/1.21.3/vault; relative paths are from the repository root)
//	PLUGIN_DIR      the directory holding vault-plugin-secrets-instagram (default .cache/plugins)
//	PLUGIN_VERSION  the version baked into the binary (default: the one it reports to Vault)
//	PLUGIN_SHA256   if set, must match the binary (guards against a stale build)
//	HA_LOG_DIR      if set, the nodes' logs are kept there instead of a temporary directory
package ha
