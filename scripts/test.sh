#!/usr/bin/env bash
# Sets up this machine and runs every test of asgid on two builds:
#   build/       RelWithDebInfo, warnings as errors, Python linked statically (the default)
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer, warnings as errors, Python as a
#                shared library: the two link modes are both tested
# Each build runs the C unit tests (ctest) and the integration tests (pytest, driving the real
# binary over loopback); then scripts/test-windows.sh cross-builds asgid.exe into build-win/ and
# tests it under Wine (docs/windows.md); then build-fuzz/ (clang, libFuzzer, ASan+UBSan) runs
# the fuzz targets of tests/fuzz for a bounded time each; then scripts/test-debian13.sh builds
# and tests asgid on Debian 13 (Python 3.13) in a chroot, and scripts/test-image.sh builds the
# container image with podman and tests it. Any failure, warning or sanitizer report fails the
# run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# The Debian 13 chroot and the container image need root (chroot, mount, podman's storage).
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi

# The Debian 13 root and its setup are mostly downloads: made while this machine's builds and
# tests run (its output is shown when the Debian 13 tests start).
debian13_log=$(mktemp)
"${as_root[@]}" bash scripts/test-debian13.sh prepare >"$debian13_log" 2>&1 &
debian13_prepare=$!

# Debian's own interpreter, with Debian's pytest/httpx: the machine may put another python3
# first on PATH.
python=/usr/bin/python3
jobs=$(nproc)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizer/lsan.supp}

run_build() {
  local dir=$1
  shift
  echo "== $dir: configure and build"
  cmake -S . -B "$dir" -DASGID_WERROR=ON -DASGID_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  echo "== $dir: unit tests"
  ctest --test-dir "$dir" --output-on-failure
  # Workers start by fork on POSIX by default; spawn (the only way on Windows) is run too.
  for start in fork spawn; do
    echo "== $dir: integration tests, worker_start = $start"
    ASGID_TEST_WORKER_START=$start ASGID_BIN="$dir/asgid" ASGID_EXAMPLES="$dir/examples" \
      ASGID_TEST_APPS="$dir/tests/apps" "$python" -m pytest tests/integration -q -p no:cacheprovider
  done
}

# The libFuzzer targets of tests/fuzz, built by clang with ASan+UBSan, each run for a bounded
# time on its seed corpus (what they find goes to a temporary directory, not the repository).
run_fuzz() {
  local dir=build-fuzz
  echo "== $dir: configure and build (clang, libFuzzer, ASan+UBSan)"
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DASGID_WERROR=ON -DASGID_FUZZ=ON \
    -DASGID_BUILD_TESTS=OFF -DASGID_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir" -j"$jobs" --target fuzz_targets >/dev/null
  echo "== $dir: fuzz targets, ${ASGID_FUZZ_SECONDS:-40} s each"
  bash tests/fuzz/run.sh "$dir" "${ASGID_FUZZ_SECONDS:-40}"
}

run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASGID_PYTHON_LINK=STATIC
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DASGID_SANITIZE=ON -DASGID_PYTHON_LINK=SHARED
# asgid.exe, cross-built with mingw-w64, its unit tests and tests/windows under Wine.
bash scripts/test-windows.sh
run_fuzz
if ! wait "$debian13_prepare"; then
  cat "$debian13_log"
  echo "== preparing the Debian 13 root failed" >&2
  exit 1
fi
cat "$debian13_log"
"${as_root[@]}" bash scripts/test-debian13.sh
echo "== the container image (podman)"
"${as_root[@]}" bash scripts/test-image.sh
echo "== all tests passed"
