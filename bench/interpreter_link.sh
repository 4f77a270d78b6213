#!/usr/bin/env bash
# How fast pure Python runs under each way of linking CPython (docs/architecture.md, "Linking
# the interpreter"): Debian's python3, and a minimal Py_BytesMain program linked against the
# static archive (non-PIE, as asgid links it), Debian's PIC archive (libpython3.X-pic.a, where
# present) and the shared library. Prints, for each, the best of 3 timings of a loop of dict
# stores, str() and integer arithmetic, and the instructions callgrind counts for a shorter one.
#
#   bench/interpreter_link.sh             (needs gcc, libpython3-dev, valgrind)
#
# PYTHON (default /usr/bin/python3) names the installation to link against. Run it on a quiet
# machine: the timings are pinned to CPU 0, and nothing else should run there.
set -euo pipefail

PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

read -r libpl library version executable < <("$PYTHON" -c '
import sys, sysconfig
print(sysconfig.get_config_var("LIBPL"), sysconfig.get_config_var("LIBRARY"),
      sysconfig.get_config_var("LDVERSION"), sys.executable)')
syslibs=$("$PYTHON" -c '
import sysconfig
print(" ".join(dict.fromkeys(" ".join(sysconfig.get_config_var(v) or "" for v in ("MODLIBS", "LIBS", "SYSLIBS")).split())))')
includes=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')

printf '#include <Python.h>\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n' >"$tmp/main.c"
cat >"$tmp/loop.py" <<'EOF'
import sys, time
def work(n):
    d = {}
    for i in range(n):
        d[i & 1023] = i * 2 + len(str(i & 7))
if sys.argv[1:] == ["count"]:
    work(200_000)
else:
    best = 1e9
    for _ in range(3):
        start = time.perf_counter(); work(3_000_000); best = min(best, time.perf_counter() - start)
    print(f"{best:.3f} s")
EOF

export_py="-Wl,--export-dynamic-symbol=Py* -Wl,--export-dynamic-symbol=_Py*"
declare -a names=("python3 ($executable)") programs=("$executable")
# shellcheck disable=SC2086 # word splitting of the flag lists is wanted
gcc -O2 -fno-pie -no-pie -I"$includes" "$tmp/main.c" -o "$tmp/static" \
  -Wl,--whole-archive "$libpl/$library" -Wl,--no-whole-archive $syslibs $export_py
names+=("static archive, non-PIE (asgid's link)"); programs+=("$tmp/static")
pic_archive="$libpl/${library%.a}-pic.a"
if [ -f "$pic_archive" ]; then
  # shellcheck disable=SC2086
  gcc -O2 -I"$includes" "$tmp/main.c" -o "$tmp/static-pic" \
    -Wl,--whole-archive "$pic_archive" -Wl,--no-whole-archive $syslibs $export_py
  names+=("PIC archive, static ($(basename "$pic_archive"))"); programs+=("$tmp/static-pic")
fi
# shellcheck disable=SC2086
gcc -O2 -I"$includes" "$tmp/main.c" -o "$tmp/shared" -L"$libpl" -lpython"$version" $syslibs
names+=("shared libpython$version"); programs+=("$tmp/shared")

printf '%-48s %10s %16s\n' interpreter time instructions
for i in "${!programs[@]}"; do
  time=$(taskset -c 0 "${programs[$i]}" "$tmp/loop.py")
  instructions=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "${programs[$i]}" \
                   "$tmp/loop.py" count 2>&1 | awk '/Collected/ {print $4}')
  printf '%-48s %10s %16s\n' "${names[$i]}" "$time" "$instructions"
done
