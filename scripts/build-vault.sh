#!/usr/bin/env bash
# Builds the Vault server binary that the e2e tests and `make dev` run, once, into a
# git-ignored cache folder, and prints its path. Vault's go.mod carries replace
# directives, so `go install pkg@version` refuses it: a throwaway module that
# requires Vault is the way to build it from the Go module proxy.
set -euo pipefail

VAULT_VERSION="${VAULT_VERSION:-1.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${VAULT_CACHE_DIR:-$root/.cache/vault}"
bin="$cache/$VAULT_VERSION/vault"

if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "v$VAULT_VERSION"; then
  echo "$bin"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/$VAULT_VERSION"

cd "$work"
{
  go mod init vaultbuild
  go mod edit -require="github.com/hashicorp/vault@v$VAULT_VERSION"
  # Vault's own replace directives only apply inside its module; the ones that
  # matter for a build outside it point at its sibling api and sdk modules,
  # which the proxy serves at matching versions.
  cat > tools.go <<'GO'
//go:build tools

package vaultbuild

import _ "github.com/hashicorp/vault"
GO
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$bin.tmp" github.com/hashicorp/vault
  mv "$bin.tmp" "$bin"
} >&2
echo "$bin"
