package vaultproc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/vault/api"
)

// PluginName is the plugin's binary name in a plugin directory, and the
// name it is registered and mounted under.
const PluginName = "vault-plugin-secrets-instagram"

// defaultVaultVersion is the version scripts/build-vault.sh builds unless
// told otherwise, so its default output path.
const defaultVaultVersion = "1.21.3"

// Build is a Vault binary and a build of the plugin to run in it.
type Build struct {
	VaultBin  string
	PluginDir string // the plugin directory Vault runs PluginName from
	PluginBin string // PluginDir/PluginName
	// PluginVersion is the version to register; "" registers the binary
	// under the version it reports itself.
	PluginVersion string
	PluginSHA256  string
}

// FindBuild finds the builds that `make test-e2e` and `make test-ha` hand
// to the tests through the environment, and hashes the plugin:
//
//	VAULT_BIN       default <user cache>/vault-plugin-secrets-instagram/vault/1.21.3/vault,
//	                where scripts/build-vault.sh puts it
//	PLUGIN_DIR      default .cache/plugins
//	PLUGIN_VERSION  default "": the version the binary reports
//	PLUGIN_SHA256   if set, must match the binary: a stale or rebuilt
//	                binary would otherwise be tested under a wrong name
//
// Relative paths are taken from root, the repository root, where a
// developer typing them is: go test runs in the package's own directory.
// hint is added to the errors about missing or changed binaries, to say
// how to build them.
func FindBuild(root, hint string) (Build, error) {
	fromRoot := func(path string) string {
		if filepath.IsAbs(path) {
			return path
		}
		return filepath.Join(root, path)
	}
	b := Build{
		VaultBin:      fromRoot(envOr("VAULT_BIN", defaultVaultBin())),
		PluginDir:     fromRoot(envOr("PLUGIN_DIR", filepath.Join(".cache", "plugins"))),
		PluginVersion: os.Getenv("PLUGIN_VERSION"),
	}
	if _, err := os.Stat(b.VaultBin); err != nil {
		return b, fmt.Errorf("vault binary: %w%s", err, hint)
	}
	b.PluginBin = filepath.Join(b.PluginDir, PluginName)
	sum, err := FileSHA256(b.PluginBin)
	if err != nil {
		return b, fmt.Errorf("plugin binary: %w%s", err, hint)
	}
	b.PluginSHA256 = sum
	if want := os.Getenv("PLUGIN_SHA256"); want != "" && want != sum {
		return b, fmt.Errorf("%s has sha256 %s, PLUGIN_SHA256 says %s: the binary changed after the build%s", b.PluginBin, sum, want, hint)
	}
	return b, nil
}

// defaultVaultBin is where scripts/build-vault.sh builds Vault when neither
// VAULT_CACHE_DIR nor VAULT_BIN says otherwise: one cache per user.
func defaultVaultBin() string {
	dir := os.Getenv("VAULT_CACHE_DIR")
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "vault-plugin-secrets-instagram", "vault")
	}
	return filepath.Join(dir, defaultVaultVersion, "vault")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// FileSHA256 is the hex SHA-256 of a file: what Vault's plugin catalog pins
// a binary by.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Register registers the plugin in Vault's catalog by its SHA-256 and
// version. Without a version, Vault registers the binary under the version
// it reports. env ("KEY=value") is added to the plugin process's
// environment by Vault's catalog, for example SSL_CERT_FILE naming the
// certificate of an https fake Meta to trust, or a test build's switches;
// with none, the plugin gets Vault's environment alone. Registering again
// replaces the entry: a reload then starts the plugin with the new env.
func (b Build) Register(ctx context.Context, sys *api.Sys, env ...string) error {
	if err := sys.RegisterPluginWithContext(ctx, &api.RegisterPluginInput{
		Name:    PluginName,
		Type:    api.PluginTypeSecrets,
		Command: PluginName,
		SHA256:  b.PluginSHA256,
		Version: b.PluginVersion,
		Env:     env,
	}); err != nil {
		return fmt.Errorf("register plugin %s %s: %w", PluginName, b.PluginVersion, err)
	}
	return nil
}

// RegisterAndMount registers the plugin (Register, with env) and mounts it
// at mountPath pinned to its version; without a version, the mount takes
// the latest registered one.
func (b Build) RegisterAndMount(ctx context.Context, sys *api.Sys, mountPath string, env ...string) error {
	if err := b.Register(ctx, sys, env...); err != nil {
		return err
	}
	if err := sys.MountWithContext(ctx, mountPath, &api.MountInput{
		Type:   PluginName,
		Config: api.MountConfigInput{PluginVersion: b.PluginVersion},
	}); err != nil {
		return fmt.Errorf("mount %s at %s/: %w", PluginName, mountPath, err)
	}
	return nil
}
