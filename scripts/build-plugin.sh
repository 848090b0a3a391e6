#!/usr/bin/env bash
# Builds the plugin binary into the plugin directory Vault runs it from, and
# prints, as shell assignments that `eval` can take (values are %q-quoted):
#
#   PLUGIN_BIN=/abs/path/.cache/plugins/vault-plugin-secrets-instagram
#   PLUGIN_DIR=/abs/path/.cache/plugins
#   PLUGIN_VERSION=v0.0.0-dev+1a2b3c4
#   PLUGIN_SHA256=<hex>
#
# Registration needs the last two: Vault pins a plugin by its SHA-256, and a
# `-version` must be a semantic version that equals what the binary itself
# reports (Vault refuses the registration on a mismatch), so the version is
# baked in here with -ldflags and handed to whoever registers it.
#
# Environment: PLUGIN_DIR (default .cache/plugins), VERSION (default derived
# from `git describe`), GOOS/GOARCH as usual for cross builds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="vault-plugin-secrets-instagram"
plugin_dir="${PLUGIN_DIR:-$root/.cache/plugins}"

# semver: the shape Vault's -version accepts (hashicorp/go-version, strict
# semver with an optional leading v).
semver_re='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'

# derive_version maps `git describe` output to a semantic version:
#   v1.2.3                     -> v1.2.3                (a release)
#   v1.2.3-dirty               -> v1.2.3+dirty
#   v1.2.3-4-gabc1234[-dirty]  -> v1.2.4-dev.4+abc1234[.dirty]   (after a release:
#                                 the next patch's pre-release, so it sorts above v1.2.3)
#   v1.3.0-rc.1-4-gabc1234     -> v1.3.0-rc.1.dev.4+abc1234
#   abc1234[-dirty]            -> v0.0.0-dev+abc1234[.dirty]   (no tag yet)
#   (no commit, no git)        -> v0.0.0-dev
derive_version() {
  local desc dirty="" base n sha meta
  desc="$(git -C "$root" describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null)" || desc=""
  if [ -z "$desc" ]; then
    echo "v0.0.0-dev"
    return
  fi
  if [[ "$desc" == *-dirty ]]; then
    dirty=1
    desc="${desc%-dirty}"
  fi
  if [[ "$desc" =~ ^(v.+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
    base="${BASH_REMATCH[1]}" n="${BASH_REMATCH[2]}" sha="${BASH_REMATCH[3]}"
    meta="$sha${dirty:+.dirty}"
    if [[ "$base" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
      echo "v${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))-dev.$n+$meta"
    elif [[ "$base" =~ ^v[0-9]+\.[0-9]+\.[0-9]+-[0-9A-Za-z.-]+$ ]]; then
      echo "$base.dev.$n+$meta"
    else
      echo "v0.0.0-dev+$meta"
    fi
  elif [[ "$desc" =~ ^[0-9a-f]+$ ]]; then
    echo "v0.0.0-dev+$desc${dirty:+.dirty}"
  else
    # An exact tag. A dirty tree on a tag is not that release.
    echo "$desc${dirty:++dirty}"
  fi
}

version="${VERSION:-$(derive_version)}"
if ! [[ "$version" =~ $semver_re ]]; then
  if [ -n "${VERSION:-}" ]; then
    echo "build-plugin: VERSION=$VERSION is not a semantic version like v1.2.3 (Vault requires one)" >&2
    exit 1
  fi
  echo "build-plugin: git describe gave no usable version ($version); using v0.0.0-dev" >&2
  version="v0.0.0-dev"
fi

cd "$root"
module="$(go list -m)"
mkdir -p "$plugin_dir"
plugin_dir="$(cd "$plugin_dir" && pwd)"
bin="$plugin_dir/$name"

# Build beside the target and rename: a Vault that is running the plugin from
# this directory never sees a half-written binary.
tmp="$plugin_dir/.$name.tmp.$$"
trap 'rm -f "$tmp"' EXIT
go build -trimpath -ldflags "-s -w -X $module.Version=$version" -o "$tmp" ./cmd/vault-plugin-secrets-instagram
mv -f "$tmp" "$bin"

if command -v sha256sum >/dev/null 2>&1; then
  sha="$(sha256sum "$bin" | cut -d' ' -f1)"
else
  sha="$(shasum -a 256 "$bin" | cut -d' ' -f1)"
fi

printf 'PLUGIN_BIN=%q\n' "$bin"
printf 'PLUGIN_DIR=%q\n' "$plugin_dir"
printf 'PLUGIN_VERSION=%q\n' "$version"
printf 'PLUGIN_SHA256=%q\n' "$sha"
