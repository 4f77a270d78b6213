#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build, one after the other, each for SECONDS on its
# seed corpus (tests/fuzz/corpus/<target>/, with <target>.dict when there is one). Inputs
# that reach new code go to a temporary directory, never into the repository's corpus.
# Exits non-zero, naming the saved input, when a target finds a crash, a hang or a leak.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]      (defaults: 40 seconds, all)
#
# FUZZ_KEEP=DIR keeps what each target found in DIR/<target>/ (to look at, or to pick seeds
# from) instead of deleting it.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-40}
shift $(($# < 2 ? $# : 2))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for binary in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$binary" ] && targets+=("$(basename "$binary" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets in $build/tests/fuzz (configure with -DASGID_FUZZ=ON)" >&2
  exit 1
fi

artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
for target in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/$target
  [ -d "$corpus" ] || { echo "fuzz: $target has no seed corpus $corpus" >&2; exit 1; }
  found=${FUZZ_KEEP:+$FUZZ_KEEP/$target}
  found=${found:-$work/$target}
  mkdir -p "$found"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$artifacts/$target-")
  [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
  log="$work/$target.log"
  if "$build/tests/fuzz/fuzz_$target" "${options[@]}" "$found" "$corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    echo "fuzz $target: ${seconds}s, $runs inputs, $cov edges covered, no crash"
  else
    echo "fuzz $target: FAILED; the end of its log:"
    tail -n 40 "$log"
    echo "fuzz $target: reproduce with $build/tests/fuzz/fuzz_$target $artifacts/$target-*"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes found in: ${failed[*]}" >&2
  exit 1
fi
