#!/usr/bin/env bash
# Cross-builds asgid for 64-bit Windows with Debian's mingw-w64 and tests it under Wine:
#   1. setup       the Debian packages (scripts/setup.sh: mingw-w64, wine, Windows zlib)
#   2. sources     Debian's source packages of libuv, inih and cmocka, and Debian 13's nodejs
#                  source (llhttp 9.2.1's C files are in its deps/llhttp), each the orig tarball
#                  named by the signed Sources index of a private apt configuration (nothing in
#                  /etc changes), downloaded once and checked against that index's SHA-256
#   3. deps        cross-built statically into $out/deps/prefix, cached: rebuilt only when a
#                  source's hash or the toolchain file changes
#   4. build       asgid.exe, the unit tests and the native apps (-static, no Python: Debian
#                  ships no Windows CPython SDK), warnings as errors
#   5. wine        a private Wine prefix (LANG=C.UTF-8, no display)
#   6. unit tests  ctest, each test under Wine
#   7. integration tests/windows: pytest driving `wine asgid.exe` over 127.0.0.1
# Each step prints its time. Any failure fails the run with a line that names what failed.
#
#   scripts/test-windows.sh            all steps (scripts/test.sh runs it)
#   ASGID_WIN_BUILD=dir                the build folder (default build-win)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/${ASGID_WIN_BUILD:-build-win}
toolchain=$root/cmake/mingw-w64-x86_64.cmake
deps=$out/deps
prefix=$deps/prefix
jobs=$(nproc)
python=/usr/bin/python3
triplet=x86_64-w64-mingw32

fail() { echo "test-windows: $*" >&2; exit 1; }

# ---------------------------------------------------------------- timing
declare -a step_report=()
step_name=""
step_started=0
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
step_end() {
  if [ -n "$step_name" ]; then
    local ms=$(( $(now_ms) - step_started ))
    step_report+=("$(printf '%-12s %6d.%01d s' "$step_name" $((ms / 1000)) $((ms % 1000 / 100)))")
    echo "== windows: $step_name: $((ms / 1000)).$((ms % 1000 / 100)) s"
  fi
  step_name=""
}
step() {
  step_end
  step_name=$1
  step_started=$(now_ms)
  echo "== windows: $1: $2"
}
run_started=$(now_ms)

# ---------------------------------------------------------------- 1. setup
step setup "Debian packages"
bash scripts/setup.sh
for tool in $triplet-gcc wine cmake curl sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is missing after scripts/setup.sh"
done

# ---------------------------------------------------------------- 2. sources
step sources "Debian source packages, checked against the Sources index"
mkdir -p "$deps" "$out/sources"
apt_dir=$out/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$apt_dir/prefs"
# The system's own Debian archive address (the same mirror apt already uses).
debian_uri=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  debian_uri=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' "$f")
  [ -n "$debian_uri" ] && break
done
if [ -z "$debian_uri" ] && [ -f /etc/apt/sources.list ]; then
  debian_uri=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "$debian_uri" ] || fail "cannot find the system's Debian archive address in /etc/apt"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || fail "$keyring is missing (Debian package debian-archive-keyring)"
: >"$apt_dir/sources.list"
for suite in bookworm trixie; do
  echo "deb-src [signed-by=$keyring] $debian_uri $suite main" >>"$apt_dir/sources.list"
done
apt_opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::Etc::PreferencesParts=$apt_dir/prefs" -o "Dir::Etc::Preferences=$apt_dir/prefs/none")
apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 \
  || { cat "$apt_dir/update.log" >&2; fail "apt-get update of the private source lists failed"; }

# fetch_orig package suite...: the upstream (orig) tarball of the first suite whose Sources
# index names one that downloads; sets orig (the path) and orig_sha256.
fetch_orig() {
  local package=$1 suite line url name size hash
  shift
  local tried=()
  for suite in "$@"; do
    line=$(apt-get "${apt_opts[@]}" --print-uris source "$package/$suite" 2>/dev/null \
           | grep -E "^'[^']+' [^ ]+\.orig\.tar\.(gz|xz|bz2) [0-9]+ SHA256:[0-9a-f]{64}$" | head -n1) \
      || { tried+=("$package/$suite: not in the Sources index"); continue; }
    read -r url name size hash <<<"$line"
    url=${url//\'/}
    hash=${hash#SHA256:}
    orig=$out/sources/$name
    if [ ! -f "$orig" ] || ! echo "$hash  $orig" | sha256sum -c --status; then
      if ! curl -fsL --retry 2 -o "$orig.part" "$url"; then
        tried+=("$package/$suite: $url did not download")
        rm -f "$orig.part"
        continue
      fi
      echo "$hash  $orig.part" | sha256sum -c --status \
        || fail "$name: its SHA-256 is not the one of the Sources index of $suite ($hash)"
      mv "$orig.part" "$orig"
    fi
    orig_sha256=$hash
    echo "   $package/$suite: $name ($size bytes, sha256 ${hash:0:16}...)"
    return 0
  done
  printf '   %s\n' "${tried[@]}" >&2
  fail "no Debian source of $package could be fetched (tried: $*)"
}

fetch_orig libuv1 bookworm trixie;  libuv_orig=$orig;  libuv_sha=$orig_sha256
fetch_orig libinih bookworm trixie; inih_orig=$orig;   inih_sha=$orig_sha256
fetch_orig cmocka bookworm trixie;  cmocka_orig=$orig; cmocka_sha=$orig_sha256
# llhttp 9.2.1 (earlier releases accept request-smuggling vectors) is in Debian 13's nodejs 20.
fetch_orig nodejs trixie;           nodejs_orig=$orig; nodejs_sha=$orig_sha256

# ---------------------------------------------------------------- 3. deps
step deps "libuv, inih, cmocka, llhttp cross-built into $prefix"
toolchain_sha=$(sha256sum "$toolchain" | cut -c1-64)
recipe_sha=$(sed -n '/^# ---- deps recipe/,/^# ---- end of deps recipe/p' "$0" | sha256sum | cut -c1-64)
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$deps/src" "$deps/build"

# built name source_sha: 0 when name was built from this source by this recipe and toolchain.
built() { [ "$(cat "$deps/$1.stamp" 2>/dev/null)" = "$2 $toolchain_sha $recipe_sha" ]; }
mark_built() { echo "$2 $toolchain_sha $recipe_sha" >"$deps/$1.stamp"; }
unpack() { # unpack name tarball [members...]: a fresh source tree in $deps/src/name
  rm -rf "$deps/src/$1" "$deps/build/$1"
  mkdir -p "$deps/src/$1"
  tar -xf "$2" -C "$deps/src/$1" --strip-components=1 "${@:3}"
}
cross_cmake() { # cross_cmake name cmake-options...: configure $deps/src/name for Windows
  local name=$1
  shift
  cmake -S "$deps/src/$name" -B "$deps/build/$name" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" "$@" >"$deps/build-$name.log" 2>&1 \
    || { tail -n 30 "$deps/build-$name.log" >&2; fail "$name: cmake configure failed"; }
}
cross_build() { # cross_build name target
  cmake --build "$deps/build/$1" --target "$2" -j"$jobs" >>"$deps/build-$1.log" 2>&1 \
    || { tail -n 30 "$deps/build-$1.log" >&2; fail "$1: build failed"; }
}
timed() { # timed label command...: runs command, prints its time
  local t0
  t0=$(now_ms)
  "${@:2}"
  local ms=$(( $(now_ms) - t0 ))
  echo "   $1: $((ms / 1000)).$((ms % 1000 / 100)) s"
}
write_pc() { # write_pc file name version libs [libs.private]
  printf 'prefix=%s\nincludedir=${prefix}/include\nlibdir=${prefix}/lib\n\nName: %s\nDescription: %s, cross-built from Debian sources by scripts/test-windows.sh\nVersion: %s\nLibs: -L${libdir} %s\nLibs.private: %s\nCflags: -I${includedir}\n' \
    "$prefix" "$2" "$2" "$3" "$4" "${5:-}" >"$prefix/lib/pkgconfig/$1"
}

# ---- deps recipe (its text is part of the cache key)
build_libuv() {
  unpack libuv "$libuv_orig"
  cross_cmake libuv -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DBUILD_TESTING=OFF \
    -DLIBUV_BUILD_SHARED=OFF
  cross_build libuv uv_a # the static library only: the shared one would double the time
  cp -r "$deps/src/libuv/include/." "$prefix/include/"
  # The archive is libuv_a.a up to libuv 1.44, libuv.a from 1.45 (Debian 13's 1.50).
  local archive
  for archive in "$deps/build/libuv/libuv_a.a" "$deps/build/libuv/libuv.a" ""; do
    [ -f "$archive" ] && break
  done
  [ -n "$archive" ] || fail "libuv: the build made no static archive"
  cp "$archive" "$prefix/lib/libuv.a"
  # libuv's own static .pc names the Windows libraries it needs; as "libuv" for asgid's CMake.
  sed -e 's/-luv_a/-luv/' -e 's/-l:libuv\.a/-luv/' -e 's/^Name: libuv-static/Name: libuv/' \
    -e "s|^prefix=.*|prefix=$prefix|" \
    "$deps/build/libuv/libuv-static.pc" >"$prefix/lib/pkgconfig/libuv.pc"
}
build_inih() { # one C file; Debian builds it with the defaults of ini.h, as here
  unpack inih "$inih_orig"
  mkdir -p "$deps/build/inih"
  $triplet-gcc -O2 -c "$deps/src/inih/ini.c" -o "$deps/build/inih/ini.o"
  $triplet-ar rcs "$prefix/lib/libinih.a" "$deps/build/inih/ini.o"
  cp "$deps/src/inih/ini.h" "$prefix/include/"
  write_pc inih.pc inih "$(basename "$inih_orig" | sed -E 's/^libinih_([^.]+)\.orig.*/\1/')" -linih
}
build_cmocka() {
  unpack cmocka "$cmocka_orig"
  cross_cmake cmocka -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF
  cross_build cmocka cmocka-static
  cp "$deps/src/cmocka/include/cmocka.h" "$prefix/include/"
  cp "$deps/build/cmocka/src/libcmocka-static.a" "$prefix/lib/libcmocka.a"
  write_pc cmocka.pc cmocka "$(basename "$cmocka_orig" | sed -E 's/^cmocka_([^.]+\.[^.]+\.[^.]+)\.orig.*/\1/')" -lcmocka
}
build_llhttp() { # the generated C files Node ships, not the TypeScript generator
  unpack llhttp "$nodejs_orig" --wildcards '*/deps/llhttp/src/*.c' '*/deps/llhttp/include/llhttp.h'
  local dir
  dir=$(find "$deps/src/llhttp" -type d -path '*/deps/llhttp' | head -n1)
  [ -n "$dir" ] && [ -f "$dir/include/llhttp.h" ] || fail "llhttp: no deps/llhttp in $(basename "$nodejs_orig")"
  local v
  v=$(awk '/#define LLHTTP_VERSION_(MAJOR|MINOR|PATCH)/ {printf "%s%s", sep, $3; sep="."}' "$dir/include/llhttp.h")
  dpkg --compare-versions "$v" ge 9.2.1 || fail "llhttp $v in $(basename "$nodejs_orig") is older than 9.2.1"
  mkdir -p "$deps/build/llhttp"
  local c
  for c in api http llhttp; do
    $triplet-gcc -O2 -I"$dir/include" -c "$dir/src/$c.c" -o "$deps/build/llhttp/$c.o"
  done
  $triplet-ar rcs "$prefix/lib/libllhttp.a" "$deps/build/llhttp/"*.o
  cp "$dir/include/llhttp.h" "$prefix/include/"
  write_pc libllhttp.pc libllhttp "$v" -lllhttp
}
# ---- end of deps recipe

for dep in libuv:$libuv_sha inih:$inih_sha cmocka:$cmocka_sha llhttp:$nodejs_sha; do
  name=${dep%%:*}
  sha=${dep#*:}
  if built "$name" "$sha"; then
    echo "   $name: cached"
  else
    rm -f "$deps/$name.stamp"
    timed "$name" "build_$name"
    mark_built "$name" "$sha"
  fi
done

# ---------------------------------------------------------------- 4. build
step build "asgid.exe, unit tests and native apps"
cmake -S . -B "$out" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DASGID_WIN_DEPS="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASGID_WERROR=ON -DASGID_BUILD_TESTS=ON -DASGID_PYTHON=OFF \
  >"$out/configure.log" 2>&1 || { cat "$out/configure.log" >&2; fail "asgid: cmake configure failed"; }
cmake --build "$out" -j"$jobs" >"$out/build.log" 2>&1 \
  || { grep -E 'error|warning' "$out/build.log" | head -n 60 >&2; fail "asgid: the Windows build failed (all of it: $out/build.log)"; }
[ -f "$out/asgid.exe" ] || fail "the build made no $out/asgid.exe"
# Statically linked: asgid.exe and the example apps import only DLLs Windows itself ships.
for binary in "$out/asgid.exe" "$out"/examples/*.dll; do
  if $triplet-objdump -p "$binary" | grep -iE 'DLL Name: (lib|uv|cmocka|ini|llhttp|z)' >&2; then
    fail "$(basename "$binary") imports a DLL that is not part of Windows"
  fi
done

# ---------------------------------------------------------------- 5. wine
step wine "a private Wine prefix"
export WINEPREFIX=$out/wineprefix WINEDEBUG=-all LANG=C.UTF-8 LC_ALL=C.UTF-8 WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
wineserver -k 2>/dev/null || true
rm -rf "$WINEPREFIX"
mkdir -p "$WINEPREFIX"
stop_wine() { wineserver -k 2>/dev/null || true; }
trap stop_wine EXIT
# One wineserver for the whole run (a cold start per process costs ~0.5 s), started first so
# that Wine's own background processes (services.exe and the like) start under wineboot, with
# its output: started by the first test instead, they would hold that test's output open, and
# ctest would wait for them forever.
wineserver -p </dev/null >/dev/null 2>&1
wineboot --init </dev/null >"$out/wineboot.log" 2>&1 \
  || { cat "$out/wineboot.log" >&2; fail "wineboot failed"; }

# ---------------------------------------------------------------- 6. unit tests
step unit "ctest under Wine"
ctest --test-dir "$out" --output-on-failure -j"$jobs" || fail "unit tests failed under Wine"

# ---------------------------------------------------------------- 7. integration
step integration "tests/windows under Wine"
if [ -d tests/windows ]; then
  ASGID_WIN_BUILD="$out" "$python" -m pytest tests/windows -q -p no:cacheprovider \
    || fail "the Windows integration tests failed under Wine"
fi

step_end
total=$(( $(now_ms) - run_started ))
echo "== windows: times"
printf '   %s\n' "${step_report[@]}"
echo "== windows: all passed in $((total / 1000)).$((total % 1000 / 100)) s"
