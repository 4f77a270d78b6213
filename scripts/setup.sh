#!/usr/bin/env bash
# Installs every Debian package that building, testing and benchmarking asgid need.
# Idempotent: when everything is present it prints nothing and changes nothing.
#
#   scripts/setup.sh               build, test and benchmark packages
#   scripts/setup.sh --build-only  only what `cmake -S . -B build` and the build need (the
#                                  Docker image's build stage)
#
# llhttp: releases before 9.2.1 accept request-smuggling vectors. Debian 12 ships none that is
# safe, Debian 13 ships 9.2.1, which installs cleanly on Debian 12. On Debian 12 this script
# adds Debian 13 as an extra apt source, derived from the system's own Debian source entry,
# pinned at priority 100 so nothing else is ever upgraded from it, and installs only
# libllhttp-dev (and its runtime library) from it.
set -euo pipefail

# The unit tests are built by default, hence cmocka, and locales: localedef and its sources
# (the unit tests of dates and numbers run under a German locale they compile). llhttp is
# handled below.
build_packages=(
  build-essential cmake pkg-config
  libuv1-dev libinih-dev libcmocka-dev libpython3-dev
  libssl-dev zlib1g-dev
  locales
)
test_packages=(
  python3 python3-venv python3-pytest python3-httpx python3-websockets
  python3-uvloop python3-anyio python3-starlette python3-fastapi python3-django
  python3-wsproto chromium  # WebSocket tests: a sans-io client, and a real browser
  uvicorn python3-httptools gunicorn python3-hypercorn
  python3-yaml python3-msgpack
  python3-prometheus-client  # test_metrics reads /metrics with a real Prometheus parser
  curl wrk nginx procps systemd
  clang
  strace  # test_master_channel: proof that the master never signals its workers
  # scripts/test-windows.sh: the mingw-w64 cross compiler, Windows zlib, Wine to run the result
  gcc-mingw-w64-x86-64 libz-mingw-w64-dev wine wine64
  # scripts/test-debian13.sh and scripts/test-image.sh: a Debian 13 root, the container image
  debootstrap podman iproute2  # iproute2: test-image.sh brings up its network namespace's loopback
)
case "${1:-}" in
  "") packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  --build-only) packages=("${build_packages[@]}") ;;
  *) echo "usage: scripts/setup.sh [--build-only]" >&2; exit 2 ;;
esac
# Debian versions llhttp 9.2.1 as "9.2.1~..." (its source bundles other parts), hence the tilde.
llhttp_min="9.2.1~"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

llhttp_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' libllhttp-dev 2>/dev/null) || return 1
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$llhttp_min"
}

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    "${sudo_cmd[@]}" apt-get update -q >/dev/null
    apt_updated=1
  fi
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_update
  apt_install "${missing[@]}"
fi

if ! llhttp_ok; then
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = bookworm ]; then
    # Derive the Debian 13 source from the system's own main Debian entry (same mirror).
    src=/etc/apt/sources.list.d/asgid-trixie.sources
    if [ ! -f "$src" ]; then
      uri=""
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && u!="" && $0 ~ /bookworm( |$)/ {print u; exit} /^$/ {u=""}' \
              /etc/apt/sources.list.d/debian.sources)
      fi
      if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
      fi
      if [ -z "$uri" ]; then
        echo "setup: cannot find the system's Debian source entry to derive a Debian 13 source from" >&2
        exit 1
      fi
      printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
        | "${sudo_cmd[@]}" tee "$src" >/dev/null
      printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' \
        | "${sudo_cmd[@]}" tee /etc/apt/preferences.d/asgid-trixie >/dev/null
      apt_updated=0
    fi
    echo "setup: installing libllhttp-dev >= $llhttp_min from Debian 13 (pinned at priority 100)"
    apt_update
    apt_install -t trixie libllhttp-dev
  else
    echo "setup: installing libllhttp-dev"
    apt_update
    apt_install libllhttp-dev
  fi
  if ! llhttp_ok; then
    echo "setup: libllhttp-dev >= $llhttp_min is required and could not be installed" >&2
    exit 1
  fi
fi

# The WebSocket tests drive Node's `ws` client (npm), pinned by tests/integration/node's
# package-lock.json. Node.js with npm comes from the machine or, failing that, Debian.
if [ "${1:-}" != --build-only ]; then
  if ! command -v npm >/dev/null; then
    echo "setup: installing nodejs npm"
    apt_update
    apt_install nodejs npm
  fi
  node_dir="$(dirname "$0")/../tests/integration/node"
  if [ ! -f "$node_dir/node_modules/ws/package.json" ]; then
    echo "setup: installing the npm packages of tests/integration/node"
    npm ci --prefix "$node_dir" --no-audit --no-fund >/dev/null
  fi
fi

# The fuzz targets (tests/fuzz) need libFuzzer, which is in clang's runtime package, named
# after clang's major version (Debian 12: libclang-rt-14-dev); clang does not depend on it.
if [ "${1:-}" != --build-only ]; then
  clang_major=$(clang -dumpversion | cut -d. -f1)
  runtime=libclang-rt-$clang_major-dev
  if ! dpkg-query -W -f='${Status}' "$runtime" 2>/dev/null | grep -q 'install ok installed'; then
    echo "setup: installing $runtime (libFuzzer)"
    apt_update
    apt_install "$runtime"
  fi
fi
