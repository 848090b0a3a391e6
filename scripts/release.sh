#!/usr/bin/env bash
# `make release VERSION=v1.2.3`: the plugin's release artifacts, from this
# checkout, into dist/<version>/ (git-ignored):
#
#   <os>_<arch>/vault-plugin-secrets-instagram                   the binaries
#   vault-plugin-secrets-instagram_<version>_<os>_<arch>.tar.gz  one binary each
#   SHA256SUMS            sha256 of each *binary*: what `vault plugin register -sha256` takes
#   SHA256SUMS.archives   sha256 of each .tar.gz, to check a download before unpacking it
#
# for linux and darwin on amd64 and arm64 (PLATFORMS overrides the list).
# The binaries are static (CGO_ENABLED=0), built with -trimpath, stripped,
# and carry the version (-X ...Version=<version>), which Vault checks against
# the version given at registration. The release notes are CHANGELOG.md.
#
# Progress goes to stderr; stdout ends with the registration command for
# this machine's platform.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="vault-plugin-secrets-instagram"
version="${1:-${VERSION:-}}"
platforms="${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"

# The shape Vault's -version accepts; the same rule as scripts/build-plugin.sh.
semver_re='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if [ -z "$version" ]; then
  echo "release: say which version: make release VERSION=v1.2.3" >&2
  exit 1
fi
if ! [[ "$version" =~ $semver_re ]]; then
  echo "release: VERSION=$version is not a semantic version like v1.2.3 (Vault requires one)" >&2
  exit 1
fi

cd "$root"
# The version variable lives in the module's root package, so -X takes the
# module path (the same -X scripts/build-plugin.sh uses, which the e2e tests
# prove Vault accepts).
module="$(go list -m)"

# A release is a tagged, clean commit. Building anything else is allowed
# (to try the process), but said loudly.
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  echo "release: WARNING: the working tree has uncommitted changes; these binaries are not a build of any commit" >&2
fi
if [ "$(git tag --points-at HEAD 2>/dev/null | grep -Fx "$version" || true)" != "$version" ]; then
  echo "release: WARNING: HEAD is not tagged $version (git tag -a $version, then release)" >&2
fi
if ! grep -q "^## \[${version#v}\]" CHANGELOG.md 2>/dev/null; then
  echo "release: WARNING: CHANGELOG.md has no \"## [${version#v}]\" section" >&2
fi

dist="$root/dist/$version"
rm -rf "$dist"
mkdir -p "$dist"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$@"
  else
    shasum -a 256 "$@"
  fi
}

# Archives that are the same bytes for the same binaries: GNU tar can pin
# order, owners and times (to the commit's); other tars get the defaults.
epoch="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
tar_flags=()
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
fi

for platform in $platforms; do
  goos="${platform%/*}" goarch="${platform#*/}"
  dir="$dist/${goos}_${goarch}"
  mkdir -p "$dir"
  echo "==> $name $version for $goos/$goarch" >&2
  CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" GOFLAGS="${GOFLAGS:-} -mod=readonly" \
    go build -trimpath -ldflags "-s -w -X $module.Version=$version" \
    -o "$dir/$name" ./cmd/vault-plugin-secrets-instagram
  (cd "$dir" && tar ${tar_flags[@]+"${tar_flags[@]}"} -cf - "$name" | gzip -n -9 >"$dist/${name}_${version}_${goos}_${goarch}.tar.gz")
done

(
  cd "$dist"
  sha256 */"$name" >SHA256SUMS
  sha256 ./*.tar.gz | sed 's#  \./#  #' >SHA256SUMS.archives
)

echo "==> $dist" >&2
(cd "$dist" && ls -l ./*.tar.gz SHA256SUMS SHA256SUMS.archives) >&2

host="$(go env GOHOSTOS)_$(go env GOHOSTARCH)"
cat <<EOF

Release $version is in dist/$version/. SHA256SUMS lists the sha256 of each
binary (not of the archives): the value \`vault plugin register -sha256\` needs.

EOF
if [ -f "$dist/$host/$name" ]; then
  sha="$(sha256 "$dist/$host/$name" | cut -d' ' -f1)"
  cat <<EOF
On a $host Vault server, copy dist/$version/$host/$name into its
plugin_directory (on every server of the cluster), then:

  vault plugin register -sha256=$sha -version=$version secret $name
EOF
else
  echo "No binary for this machine's platform ($host) was built; see SHA256SUMS for the others."
fi
