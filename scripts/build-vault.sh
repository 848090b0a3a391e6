#!/usr/bin/env bash
# Builds the Vault server binary that the e2e tests and `make dev` run, once, into a
# git-ignored cache folder, and prints its path (only that, on stdout; progress goes
# to stderr). Vault's go.mod carries replace directives, so `go install pkg@version`
# refuses it: a throwaway module that requires Vault is the way to build it from the
# Go module proxy. The build has no web UI (that needs Node); the CLI and API are
# complete.
#
# Idempotent and safe to run concurrently: a second run waits for the first
# (when flock exists) and then finds the binary.
set -euo pipefail

VAULT_VERSION="${VAULT_VERSION:-1.21.3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One cache per user, shared by every clone (make dev, make test and CI alike):
# a second clone finds the build instead of spending half an hour on it.
cache="${VAULT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vault-plugin-secrets-instagram/vault}"
bin="$cache/$VAULT_VERSION/vault"

# built succeeds when $bin is a working Vault of the wanted version: a binary
# left by an interrupted or older build is rebuilt, not trusted. `vault version`
# prints "Vault v1.21.3", then maybe " (rev)" or ", built date".
built() {
  local out
  out="$("$bin" version 2>/dev/null)" || return 1
  case "$out" in
    "Vault v$VAULT_VERSION" | "Vault v$VAULT_VERSION "* | "Vault v$VAULT_VERSION,"*) return 0 ;;
  esac
  return 1
}

if [ -x "$bin" ] && built; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache/$VAULT_VERSION"
# Serialise concurrent builds (make dev and make test at once): the loser
# waits, then finds the winner's binary instead of compiling it again.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/$VAULT_VERSION/.lock"
  flock 9
  if [ -x "$bin" ] && built; then
    echo "$bin"
    exit 0
  fi
fi

echo "build-vault: building Vault v$VAULT_VERSION from the Go module proxy (15-35 minutes on 2 cores, once per machine)" >&2
work="$(mktemp -d)"
tmp="$bin.tmp.$$"
trap 'rm -rf "$work" "$tmp"' EXIT

# A developer's environment must not change the build: no workspace, module
# mode regardless of GOFLAGS, and a static binary (as HashiCorp ships it)
# whether or not a C compiler is installed.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# align_sdk makes the sdk module match the one in Vault's own tree where the
# tagged sdk Vault's go.mod requires does not. Vault builds against its
# in-tree sdk (a replace directive), and a release branch can require a tag
# cut later from main: Vault 1.21.3 requires sdk v0.21.0, whose
# framework.Backend.ActivationFunc takes the activation flag's name as a
# third argument, while its own tree (and so its identity store) still has
# the two-argument form; no other difference stops the build. When the
# mismatch is there, the build uses a copy of the required sdk with that one
# field as Vault's tree declares it. Any other version builds as it is.
# (Vault 1.21.4 cannot be built this way: its tree mixes sdk changes that no
# single sdk tag holds, such as this ActivationFunc with v0.24's
# RestorePolicy and a SystemView method no tag has.)
align_sdk() {
  local sdk_dir vault_dir
  sdk_dir="$(go list -m -f '{{.Dir}}' github.com/hashicorp/vault/sdk)"
  vault_dir="$(go list -m -f '{{.Dir}}' github.com/hashicorp/vault)"
  if grep -q 'ActivationFunc func(context.Context, \*logical.Request, string) error' "$sdk_dir/framework/backend.go" &&
    grep -q 'func (i \*IdentityStore) activateDeduplication(ctx context.Context, req \*logical.Request) error' "$vault_dir/vault/identity_store_util.go" 2>/dev/null; then
    echo "build-vault: Vault $VAULT_VERSION's tree declares ActivationFunc with two arguments, its required sdk with three: building with the sdk aligned to the tree" >&2
    cp -R "$sdk_dir" sdk
    chmod -R u+w sdk
    sed -i.orig 's|ActivationFunc func(context.Context, \*logical.Request, string) error|ActivationFunc func(context.Context, *logical.Request) error|' sdk/framework/backend.go
    rm -f sdk/framework/backend.go.orig
    go mod edit -replace github.com/hashicorp/vault/sdk=./sdk
    go mod tidy -e
  fi
}

cd "$work"
{
  go mod init vaultbuild
  go mod edit -require="github.com/hashicorp/vault@v$VAULT_VERSION"
  # Vault's own replace directives only apply inside its module; the ones that
  # matter for a build outside it point at its sibling api and sdk modules,
  # which the proxy serves at the versions Vault's go.mod requires.
  cat > tools.go <<'GO'
//go:build tools

package vaultbuild

import _ "github.com/hashicorp/vault"
GO
  # -e: Vault's own tests import sdk test helpers some sdk versions lack;
  # the server binary does not.
  go mod tidy -e
  align_sdk
  go build -trimpath -ldflags "-s -w" -o "$tmp" github.com/hashicorp/vault
  mv -f "$tmp" "$bin"
} >&2
echo "$bin"
