#!/usr/bin/env bash
# `make fuzz`: runs every fuzz target for FUZZTIME each (default 30s), one
# after the other (go test -fuzz takes one target at a time). `make test`
# already runs each target's seed corpus as ordinary tests; this looks for
# new inputs. Findings land in the package's testdata/fuzz/ and fail the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${FUZZTIME:-30s}"

# Every `func FuzzXxx(` in a _test.go file, with its package directory.
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . --exclude-dir=.cache --exclude-dir=.git |
  while read -r file; do
    dir="./$(dirname "${file#./}")"
    grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r target; do
      echo "==> $dir $target ($fuzztime)" >&2
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"
    done
  done
