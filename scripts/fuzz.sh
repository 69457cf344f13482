#!/usr/bin/env bash
# Runs every fuzz target of the module in turn, each for FUZZTIME (go test's
# -fuzztime, 30s unless set). Go spends up to a minute minimizing each new
# input it finds, and a target whose inputs run slowly fuzzes nothing in that
# time, so FUZZMINIMIZE (2s unless set) bounds it. The first failure stops the
# run with the fuzzer's whole output; its input stays in the package's
# testdata/fuzz, where `make test` runs it from then on. Go 1.26's fuzzer can
# also fail a target with "context deadline exceeded" as its time runs out
# (go.dev/issue/75804, mended in Go 1.27): such a failure wrote no input, so it
# is reported and the run goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
fuzztime=${FUZZTIME:-30s}
minimize=${FUZZMINIMIZE:-2s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

targets=$(git grep -o '^func Fuzz[A-Za-z0-9_]*' -- '*_test.go' |
  awk -F: '{ dir = $1; sub(/\/[^\/]*$/, "", dir); sub(/^func /, "", $2); print "./" dir, $2 }' | sort -u)
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }

# inputs counts the failing inputs kept for a target; execs tells how many
# new inputs its run tried, or, when none, how far it got through replaying
# its seeds and the inputs cached by earlier runs, which comes first and can
# take a target's whole time (FuzzParams has over 3,000 seeds).
inputs() { if [ -d "$1" ]; then ls "$1" | wc -l; else echo 0; fi; }
execs() {
  grep -o 'execs: [0-9]*' "$out" | tail -1 && return
  local base
  base=$(grep -o 'baseline coverage: [0-9]*/[0-9]*' "$out" | tail -1 | cut -d' ' -f3) || true
  if [ -n "$base" ]; then
    echo "execs: 0, still replaying its corpus when its time ran out (${base/\// of })"
  else
    echo 'execs: 0'
  fi
}

n=0 raced=0 replayed=0
while read -r pkg fn; do
  n=$((n + 1))
  before=$(inputs "$pkg/testdata/fuzz/$fn")
  if ! "$GO" test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$out" 2>&1; then
    if [ "$(inputs "$pkg/testdata/fuzz/$fn")" = "$before" ] && grep -q '^    context deadline exceeded$' "$out"; then
      echo "$pkg $fn: $(execs), then the fuzzer's deadline race (go.dev/issue/75804): no failing input"
      raced=$((raced + 1))
      continue
    fi
    cat "$out"
    echo "fuzz: $pkg $fn failed" >&2
    exit 1
  fi
  e=$(execs)
  echo "$pkg $fn: $e"
  case $e in *replaying*) replayed=$((replayed + 1)) ;; esac
done <<<"$targets"
echo "fuzz: $n targets, $fuzztime each: no failing input ($raced stopped by the deadline race)"
if [ "$replayed" -gt 0 ]; then
  echo "fuzz: $replayed still replaying their corpus when their time ran out: give them a longer FUZZTIME"
fi
