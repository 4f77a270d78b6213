#!/usr/bin/env bash
# Builds and tests asgid on Debian 13 (trixie, Python 3.13) from a Debian 12 machine, in a
# chroot: a Debian 13 root made by debootstrap (scripts/debian13-base.sh), where the README's
# setup (scripts/setup.sh) installs every package, cmake builds asgid as README.md says, and
# the unit tests and the integration tests run.
#
#   scripts/test-debian13.sh            the unit tests and the integration tests that differ
#                                       most between Debian releases (below), workers started
#                                       by fork (test_master_spawn.py starts them by spawn)
#   scripts/test-debian13.sh all        the unit tests and the whole integration suite, by fork
#                                       and by spawn
#   scripts/test-debian13.sh prepare    only the root and the setup (scripts/test.sh runs this
#                                       while it tests on this machine: mostly downloads)
#
# The root is cached with the packages installed, beside scripts/debian13-base.sh's tarball
# ($ASGID_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/asgid), and reused while the base
# tarball and scripts/setup.sh (its package lists) are unchanged; otherwise it is made again.
# Each run copies the source tree afresh into it. Needs root (chroot, mount); everything
# mounted for the run lives in a private mount namespace and is gone when the run ends,
# whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

# What Debian 13 changes under asgid: Python 3.13 (the runner's asyncio internals, the
# embedding, frameworks' newer releases), libuv 1.50, OpenSSL 3.5, systemd 257, gcc 14. These
# files test the Python worker classes and apps, the master (signals, reload, channels), the
# service files, WebSocket over Python and docs/python.md's quick start in a virtualenv.
selected=(
  tests/integration/test_python_*.py
  tests/integration/test_master_*.py
  tests/integration/test_service_*.py
  tests/integration/test_lifespan.py
  tests/integration/test_websocket_asgi.py
  tests/integration/test_websocket_frameworks.py
  tests/integration/test_docs_python.py
  tests/integration/test_basic.py
)
case "${1:-}" in
  "") tests=("${selected[@]}") starts=(fork) ;;
  all) tests=(tests/integration) starts=(fork spawn) ;;
  prepare) tests=() starts=() ;;
  *) echo "usage: scripts/test-debian13.sh [all|prepare]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "test-debian13: needs root (debootstrap, chroot, mount)" >&2
  exit 1
fi

tarball=$(bash scripts/debian13-base.sh tarball)
# The root lives beside the base tarball, in scripts/debian13-base.sh's cache.
cache=$(dirname "$tarball")
# One run at a time uses the root (a prepare left running by a failed scripts/test.sh, say).
exec 9>"$cache/debian13-root.lock"
flock 9
root=$cache/debian13-root
key="$(stat -c %Y "$tarball") $(sha256sum scripts/setup.sh | cut -d' ' -f1)"
if [ "$(cat "$root/.asgid-root-key" 2>/dev/null)" != "$key" ]; then
  echo "== debian13: a new root from $(basename "$tarball")"
  rm -rf "$root"
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  # The root reaches the network through this machine: it trusts what this machine trusts
  # (a TLS-inspecting proxy's authority, say), added to Debian's own list when the
  # ca-certificates package installs.
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host-trust.crt"
else
  echo "== debian13: reusing the cached root"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/src"
mkdir -p "$root/src"
# The working tree as git sees it: tracked and new files, nothing ignored (no build folders).
git ls-files -z --cached --others --exclude-standard | tar -C . --null -T - -cf - \
  | tar -C "$root/src" -xf -

# Inside the chroot: a clean environment, except what reaching the network may need.
environment=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
             LANG=C.UTF-8 CI="${CI:-}")
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!name:-}" ]; then environment+=("$name=${!name}"); fi
done
# Node's npm (the WebSocket tests' client) reads this list of authorities, not OpenSSL's.
environment+=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)

inside=$(cat <<EOF
set -euo pipefail
cd /src
echo "== debian13 \$(date +%T): scripts/setup.sh"
bash scripts/setup.sh
# Written once the packages are in: a run stopped before starts over with a new root.
echo "$key" >/.asgid-root-key
[ ${#tests[@]} -gt 0 ] || exit 0
. /etc/os-release
echo "== debian13 \$(date +%T): \$PRETTY_NAME, \$(/usr/bin/python3 --version), \$(gcc --version | head -n 1)"
echo "== debian13 \$(date +%T): configure and build"
cmake -S . -B build -DASGID_WERROR=ON -DASGID_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >/dev/null
cmake --build build -j"\$(nproc)" >/dev/null
echo "== debian13 \$(date +%T): unit tests"
ctest --test-dir build --output-on-failure
for start in ${starts[*]}; do
  echo "== debian13 \$(date +%T): integration tests, worker_start = \$start"
  ASGID_TEST_WORKER_START=\$start ASGID_BIN=/src/build/asgid ASGID_EXAMPLES=/src/build/examples \
    ASGID_TEST_APPS=/src/build/tests/apps /usr/bin/python3 -m pytest ${tests[*]} -q \
    -p no:cacheprovider
done
EOF
)

start=$(date +%s)
unshare --mount --propagation private bash -euo pipefail -c '
  root=$1; shift
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/tmp"
  exec chroot "$root" env -i "$@"
' debian13 "$root" "${environment[@]}" bash -c "$inside"
[ ${#tests[@]} -gt 0 ] || { echo "== debian13: prepared in $(($(date +%s) - start)) s"; exit 0; }
echo "== debian13: passed in $(($(date +%s) - start)) s"
