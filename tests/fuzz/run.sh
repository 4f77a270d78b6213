#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build, FUZZ_JOBS at a time, each for SECONDS on its
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

# One target: its result line (and, on failure, the end of its log) goes to $work/<target>.out.
fuzz_one() {
  local target=$1 corpus=tests/fuzz/corpus/$1 found log runs cov
  found=${FUZZ_KEEP:+$FUZZ_KEEP/$target}
  found=${found:-$work/$target}
  mkdir -p "$found"
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                 -artifact_prefix="$artifacts/$target-")
  [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
  log="$work/$target.log"
  if "$build/tests/fuzz/fuzz_$target" "${options[@]}" "$found" "$corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    echo "fuzz $target: ${seconds}s, $runs inputs, $cov edges covered, no crash" >"$work/$target.out"
  else
    { echo "fuzz $target: FAILED; the end of its log:"
      tail -n 40 "$log"
      echo "fuzz $target: reproduce with $build/tests/fuzz/fuzz_$target $artifacts/$target-*"
    } >"$work/$target.out"
    return 1
  fi
}

for target in "${targets[@]}"; do
  [ -d "tests/fuzz/corpus/$target" ] || {
    echo "fuzz: $target has no seed corpus tests/fuzz/corpus/$target" >&2
    exit 1
  }
done
# A target runs on one core: FUZZ_JOBS of them at once (default: one per core), so that the
# same seconds per target take less time in all.
jobs=${FUZZ_JOBS:-$(nproc)}
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait || true
failed=()
for target in "${targets[@]}"; do
  cat "$work/$target.out"
  grep -q "no crash$" "$work/$target.out" || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes found in: ${failed[*]}" >&2
  exit 1
fi
