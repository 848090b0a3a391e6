// Package e2e tests the plugin as operators run it: a real `vault server -dev`
// process, the plugin binary registered by SHA-256 and version, mounted at
// instagram/, and configured against an in-process fake of Meta's endpoints
// (package graph/graphtest).
//
// The tests are behind the build tag e2e so that `go test ./...` stays fast.
// `make test-e2e` builds Vault and the plugin and runs them with:
//
//	VAULT_BIN       the vault binary (default <user cache>/vault-plugin-secrets-instagram/vault/1.21.3/vault; relative paths are from the repository root)
//	PLUGIN_DIR      the directory holding vault-plugin-secrets-instagram (default .cache/plugins)
//	PLUGIN_VERSION  the version baked into the binary (default: the one it reports to Vault)
//	PLUGIN_SHA256   if set, must match the binary (guards against a stale build)
//	E2E_LOG_DIR     if set, Vault logs are kept there instead of a temporary directory
package e2e
