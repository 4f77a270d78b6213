#!/usr/bin/env bash
# Side-by-side benchmark of asgid against nginx on loopback. See bench/README.md.
#
#   bench/run.sh throughput [--duration 10] [--connections 64] [--rounds 5] [--only asgid|nginx]
#   bench/run.sh idle [--connections 10000] [--only asgid|nginx]
#   bench/run.sh workers [--duration 10] [--connections 64] [--rounds 5]   (asgid, 1 vs 2 workers)
#   bench/run.sh all [--duration 10] [--connections 64] [--idle-connections 10000] [--rounds 5]
#   bench/run.sh python [--duration 10] [--connections 64] [--rounds 5] [--idle-connections 10000]
#                [--only SERVER,...] [--apps hello,starlette] [--no-idle]
#                (Python ASGI: asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn, and
#                asgid-native: the native hello, no Python, the floor under every Python server)
#
# Environment: ASGID_BIN (default build/asgid), ASGID_EXAMPLES (default build/examples),
# PYTHON (default /usr/bin/python3, the system interpreter, not whatever is first on PATH),
# UVICORN, GUNICORN, HYPERCORN (default Debian's /usr/bin/uvicorn, gunicorn, hypercorn),
# BENCH_KEEP=1 keeps the temporary directory (configs, server logs, wrk output).
#
# The servers run the same trivial app (200, text/plain, "Hello, world!\n") as ONE worker,
# pinned to CPU 0, with the load generator pinned to CPU 1. Results are ratios between
# servers measured in the same run, never absolute figures to compare across machines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
ASGID_BIN=${ASGID_BIN:-$repo/build/asgid}
ASGID_EXAMPLES=${ASGID_EXAMPLES:-$repo/build/examples}
PYTHON=${PYTHON:-/usr/bin/python3}
NGINX=${NGINX:-nginx}

SERVER_CPU=0   # the server under test
CLIENT_CPU=1   # wrk or idle_clients.py
wrk_cpus=$CLIENT_CPU wrk_threads=1  # the workers mode widens both
WARMUP_S=2
EXPECTED_BODY=$'Hello, world!\n'

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

die() {
  echo "run.sh: error: $*" >&2
  exit 1
}

# ------------------------------------------------------------------ arguments
mode=${1:-}
[ -n "$mode" ] || usage
shift
case "$mode" in throughput|idle|workers|all|python) ;; -h|--help|help) usage ;; *) usage ;; esac

# The python mode's servers and apps (examples/python/*.py, module:attribute).
PYTHON_SERVERS="asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn asgid-native"
PY_APP_DIR=$repo/examples/python
declare -A PY_APP_SPEC=([hello]=hello_asgi:app [starlette]=starlette_app:app)
UVICORN=${UVICORN:-/usr/bin/uvicorn}
GUNICORN=${GUNICORN:-/usr/bin/gunicorn}
HYPERCORN=${HYPERCORN:-/usr/bin/hypercorn}
py_apps="hello starlette"
py_idle=1

duration=10
tp_connections=64
idle_connections=10000
rounds=5
only="asgid nginx"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?}; shift 2 ;;
    --connections)
      # --connections belongs to the mode being run; under "all" it is wrk's.
      if [ "$mode" = idle ]; then idle_connections=${2:?}; else tp_connections=${2:?}; fi
      shift 2 ;;
    --idle-connections) idle_connections=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --only)
      if [ "$mode" = python ]; then
        only=${2:?}; only=${only//,/ }
        for n in $only; do
          [[ " $PYTHON_SERVERS " == *" $n "* ]] || die "--only takes servers among: $PYTHON_SERVERS (comma-separated)"
        done
      else
        case "${2:-}" in asgid|nginx) only=$2 ;; *) die "--only takes asgid or nginx" ;; esac
      fi
      shift 2 ;;
    --apps)
      [ "$mode" = python ] || die "--apps belongs to the python mode"
      py_apps=${2:?}; py_apps=${py_apps//,/ }
      for n in $py_apps; do [ -n "${PY_APP_SPEC[$n]:-}" ] || die "--apps takes hello and/or starlette"; done
      shift 2 ;;
    --no-idle)
      [ "$mode" = python ] || die "--no-idle belongs to the python mode"
      py_idle=0; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
for n in "$duration" "$tp_connections" "$idle_connections" "$rounds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done

# ------------------------------------------------------------------ prerequisites
command -v taskset >/dev/null || die "taskset not found (package util-linux)"
command -v curl >/dev/null || die "curl not found"
[ -x "$PYTHON" ] || die "$PYTHON not found; set PYTHON to a Python 3 interpreter"
if [ "$mode" = python ]; then
  # Validated here rather than with the nginx/asgid checks below, which do not apply.
  [ "$only" = "asgid nginx" ] && only=$PYTHON_SERVERS
  for n in $only; do
    case "$n" in
      asgid-native)
        [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
        [ -f "$ASGID_EXAMPLES/hello.so" ] || die "$ASGID_EXAMPLES/hello.so not found (build target example_hello, or set ASGID_EXAMPLES)" ;;
      asgid-*)
        [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
        # Ask the binary whether it can run the class at all (built with Python? uvloop?).
        if ! out=$("$ASGID_BIN" --app hello_asgi:app --app-dir "$PY_APP_DIR" --worker-class "${n#asgid-}" --check-config 2>&1); then
          die "$ASGID_BIN cannot run worker_class ${n#asgid-}: $out (leave it out with --only)"
        fi ;;
      uvicorn) [ -x "$UVICORN" ] || die "$UVICORN not found (Debian package uvicorn; or set UVICORN)" ;;
      gunicorn) [ -x "$GUNICORN" ] || die "$GUNICORN not found (Debian package gunicorn; or set GUNICORN)"
                "$PYTHON" -c 'import uvicorn.workers' 2>/dev/null || die "uvicorn.workers not importable by $PYTHON (gunicorn's worker class)" ;;
      hypercorn) [ -x "$HYPERCORN" ] || die "$HYPERCORN not found (Debian package python3-hypercorn; or set HYPERCORN)" ;;
    esac
  done
  for n in $py_apps; do
    [ -f "$PY_APP_DIR/${PY_APP_SPEC[$n]%%:*}.py" ] || die "$PY_APP_DIR/${PY_APP_SPEC[$n]%%:*}.py not found"
  done
  "$PYTHON" -c 'import starlette, uvloop, httptools' 2>/dev/null || die "$PYTHON cannot import starlette, uvloop and httptools (python3-starlette python3-uvloop python3-httptools)"
  command -v wrk >/dev/null || die "wrk not found (scripts/setup.sh installs it)"
elif [[ " $only " == *" nginx "* ]]; then
  command -v "$NGINX" >/dev/null || die "nginx not found (scripts/setup.sh installs it)"
fi
if [ "$mode" != python ] && [[ " $only " == *" asgid "* ]]; then
  [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
  [ -f "$ASGID_EXAMPLES/hello.so" ] || die "$ASGID_EXAMPLES/hello.so not found; set ASGID_EXAMPLES"
fi
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 CPUs (server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU)"
if [ "$mode" != idle ]; then command -v wrk >/dev/null || die "wrk not found (scripts/setup.sh installs it)"; fi

# Servers and clients inherit this: thousands of idle connections need thousands of fds.
ulimit -n "$(ulimit -Hn)"
clk_tck=$(getconf CLK_TCK)

# ------------------------------------------------------------------ server lifecycle
tmp=$(mktemp -d "${TMPDIR:-/tmp}/asgid-bench.XXXXXX")
declare -A server_pid=() server_port=() server_log=() server_noka=()

# Every process in the tree of $1, via /proc (the server may be master + workers).
tree_pids() {
  "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import proctree; print(*proctree.tree(int(sys.argv[2])))' \
    "$here" "$1" 2>/dev/null || true
}

# State letter of a process, empty when it is gone. A dead child of this shell stays a
# zombie (Z) until waited for, so "kill -0" alone cannot tell it has exited.
proc_state() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }
  echo "${s%% *}"
}

stop_server() {
  local name=$1 pid=${server_pid[$1]:-} i st leftovers
  [ -n "$pid" ] || return 0
  leftovers=$(tree_pids "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    st=$(proc_state "$pid")
    if [ -z "$st" ] || [ "$st" = Z ]; then break; fi
    sleep 0.1
  done
  # Anything of this server's tree still alive after 5 s (a hung master, an orphaned
  # worker) is ended by its own pid.
  for p in $leftovers; do
    st=$(proc_state "$p")
    if [ -n "$st" ] && [ "$st" != Z ]; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  wait "$pid" 2>/dev/null || true
  unset "server_pid[$name]"
}

cleanup() {
  local rc=$?
  for name in "${!server_pid[@]}"; do stop_server "$name"; done
  if [ "$rc" -eq 0 ] && [ -z "${BENCH_KEEP:-}" ]; then
    rm -rf "$tmp"
  elif [ "$rc" -eq 0 ]; then
    echo "run.sh: server logs and client output kept in $tmp (BENCH_KEEP)" >&2
  else
    echo "run.sh: failed; server logs and client output kept in $tmp" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Poll until the server answers GET / with 200 and exactly the expected body.
wait_ready() {
  local name=$1 pid=${server_pid[$1]} port=${server_port[$1]} i code body st
  for ((i = 0; i < 100; i++)); do
    st=$(proc_state "$pid")
    if [ -z "$st" ] || [ "$st" = Z ]; then
      echo "--- $name log (${server_log[$name]}):" >&2
      tail -n 20 "${server_log[$name]}" >&2 || true
      die "$name exited during startup"
    fi
    code=$(curl -s --max-time 2 -o "$tmp/$name.body" -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    if [ "$code" = 200 ]; then
      body=$(cat "$tmp/$name.body"; echo x)  # the x keeps the trailing newline
      [ "${body%x}" = "$EXPECTED_BODY" ] || die "$name answered 200 with an unexpected body: $(head -c 100 "$tmp/$name.body" | od -c | head -3)"
      return 0
    fi
    sleep 0.1
  done
  echo "--- $name log (${server_log[$name]}):" >&2
  tail -n 20 "${server_log[$name]}" >&2 || true
  die "$name did not answer 200 on 127.0.0.1:$port within 10 s (last status: ${code:-none})"
}

# $1 = most connections the server must hold (idle mode needs thousands); optional $2 = the
# name to register it under (default asgid), $3 = workers (default 1), $4 = CPUs it may use
# (default the server CPU).
start_asgid() {
  local maxconn=$1 name=${2:-asgid} workers=${3:-1} cpus=${4:-$SERVER_CPU} port
  port=$(free_port)
  server_port[$name]=$port
  server_log[$name]=$tmp/$name.log
  taskset -c "$cpus" "$ASGID_BIN" --app "$ASGID_EXAMPLES/hello.so" \
    --bind "127.0.0.1:$port" --workers "$workers" --worker-class event \
    --keepalive-timeout 300s --max-connections "$maxconn" \
    >"$tmp/$name.log" 2>&1 &
  server_pid[$name]=$!  # taskset execs the server, so this is the server's own pid
  wait_ready "$name"
}

# Debian's nginx as an equal peer: one worker, no access log, keep-alive connections never
# closed by request count, everything (pid, logs, temp paths) inside $tmp.
start_nginx() {
  local maxconn=$1 port conf user_line=""
  port=$(free_port)
  server_port[nginx]=$port
  server_log[nginx]=$tmp/nginx-error.log
  mkdir -p "$tmp/nginx"
  # As root, nginx would switch its worker to an unprivileged user that cannot read $tmp;
  # keep it as the current user, like asgid. As non-root the directive does not apply.
  if [ "$(id -u)" -eq 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
  conf=$tmp/nginx/nginx.conf
  cat >"$conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$user_line
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log warn;
worker_rlimit_nofile $((maxconn + 100));
events {
    worker_connections $maxconn;
}
http {
    access_log off;
    default_type text/plain;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location / {
            return 200 "Hello, world!\n";
        }
    }
}
EOF
  # -e: the startup error log, before the configuration is read, goes to $tmp as well.
  taskset -c "$SERVER_CPU" "$NGINX" -p "$tmp/nginx/" -e "$tmp/nginx-error.log" -c "$conf" \
    >"$tmp/nginx.out" 2>&1 &
  server_pid[nginx]=$!
  wait_ready nginx
}

# A Python ASGI server for the python mode, registered as "$app-$kind" (hello-uvicorn, ...).
# $1 = kind (asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn asgid-native), $2 = app
# (hello, starlette), $3 = most connections it must hold. Every server runs ONE worker process on the
# server CPU, with the app module imported from examples/python, keep-alive connections kept
# for 300 s and no access log. Each runs from examples/python (hypercorn imports from there).
start_python() {
  local kind=$1 app=$2 maxconn=$3 name=$2-$1 port spec=${PY_APP_SPEC[$2]}
  local -a cmd
  port=$(free_port)
  server_port[$name]=$port
  server_log[$name]=$tmp/$name.log
  case "$kind" in
    asgid-native)
      # The same bytes from examples/native/hello.c: what the server and the kernel cost with
      # no Python at all, the part of a request no Python server can go below.
      cmd=("$ASGID_BIN" --app "$ASGID_EXAMPLES/hello.so" --bind "127.0.0.1:$port" --workers 1
           --keepalive-timeout 300s --max-connections "$maxconn") ;;
    asgid-*)
      cmd=("$ASGID_BIN" --app "$spec" --app-dir "$PY_APP_DIR" --worker-class "${kind#asgid-}"
           --bind "127.0.0.1:$port" --workers 1 --keepalive-timeout 300s
           --max-connections "$maxconn") ;;
    uvicorn)
      cmd=("$UVICORN" --app-dir "$PY_APP_DIR" --host 127.0.0.1 --port "$port"
           --loop uvloop --http httptools --workers 1 --no-access-log
           --timeout-keep-alive 300 --log-level warning "$spec") ;;
    gunicorn)
      # UvicornWorker picks uvloop and httptools itself (loop/http "auto"). gunicorn has no
      # access log unless asked. One master plus one worker: both are measured.
      cmd=("$GUNICORN" -k uvicorn.workers.UvicornWorker -w 1 --bind "127.0.0.1:$port"
           --chdir "$PY_APP_DIR" --keep-alive 300 --log-level warning "$spec") ;;
    hypercorn)
      # -w 1 runs the worker in this very process; its default worker class is asyncio.
      cmd=("$HYPERCORN" -w 1 --bind "127.0.0.1:$port" --keep-alive 300
           --log-level warning "$spec") ;;
    *) die "unknown Python server $kind" ;;
  esac
  echo "${cmd[*]}" >"$tmp/$name.cmd"
  # The subshell execs taskset, which execs the server: $! is the server's own pid.
  (cd "$PY_APP_DIR" && exec taskset -c "$SERVER_CPU" "${cmd[@]}") >"$tmp/$name.log" 2>&1 &
  server_pid[$name]=$!
  wait_ready "$name"
  check_python_app "$name" "$app"
}

# Beyond the hello body wait_ready checked: the app is really the one we meant, served right.
check_python_app() {
  local name=$1 app=$2 port=${server_port[$1]} got
  got=$(curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$port/" | tr -d '\r' | tr 'A-Z' 'a-z')
  grep -q '^content-type: text/plain; charset=utf-8$' <<<"$got" || die "$name: GET / has no content-type text/plain; charset=utf-8: $got"
  grep -q '^content-length: 14$' <<<"$got" || die "$name: GET / has no content-length 14: $got"
  if [ "$app" = starlette ]; then
    got=$(curl -s --max-time 5 "http://127.0.0.1:$port/items/7?q=x")
    [ "$got" = '{"id":7,"q":"x"}' ] || die "$name: GET /items/7?q=x answered '$got'"
  fi
  # Keep-alive: a second request on the same connection must be answered. Debian's
  # hypercorn 0.13.2 closes the connection after each response of an app that does not read
  # the request body (h11 has not yet seen the request end when the response is done).
  # Such a server is still measured, but wrk then opens a connection per request: the
  # tables mark it, and its figures are not comparable with the others'.
  if ! "$PYTHON" - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
for i in range(2):
    s.sendall(req)
    buf = b""
    while not (b"\r\n\r\n" in buf and buf.endswith(b"Hello, world!\n")):
        data = s.recv(4096)
        if not data:
            sys.exit(1)
        buf += data
EOF
  then
    [ -n "${server_noka[$name]:-}" ] && return 0 # said at its first start
    server_noka[$name]=1
    echo "  note: $name closes the connection after every response (no keep-alive); wrk reconnects for each request" >&2
  fi
}

# ------------------------------------------------------------------ reporting helpers
print_python_environment() {
  echo "python:   $("$PYTHON" --version 2>&1) [$PYTHON]"
  echo "peers:    $("$UVICORN" --version 2>&1 | head -n 1); gunicorn $("$GUNICORN" --version 2>&1 | grep -o '[0-9][0-9.]*' | head -n 1);" \
       "hypercorn $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("hypercorn"))' 2>/dev/null)"
  echo "          starlette $("$PYTHON" -c 'import starlette; print(starlette.__version__)' 2>/dev/null)," \
       "uvloop $("$PYTHON" -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null)," \
       "httptools $("$PYTHON" -c 'import httptools; print(httptools.__version__)' 2>/dev/null)"
}

print_environment() {
  local asgid_version="(not run)" nginx_version="(not run)"
  if [[ " $only " == *" asgid"* ]]; then
    asgid_version=$("$ASGID_BIN" --version 2>&1 | head -n 1 || true)
  fi
  if [ "$mode" != python ] && [[ " $only " == *" nginx "* ]]; then
    nginx_version=$("$NGINX" -v 2>&1 | head -n 1 || true)
  fi
  echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "system:   $(uname -srm), $(nproc --all) CPUs"
  echo "cpu:      $(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other work on the machine skews results)"
  echo "asgid:    ${asgid_version:-(no output)} [$ASGID_BIN]"
  if [ "$mode" = python ]; then print_python_environment; else echo "nginx:    ${nginx_version:-(no output)}"; fi
  echo "pinning:  servers on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU"
  echo
}

# Median of numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------ throughput
cpu_ticks() {
  "$PYTHON" "$here/proctree.py" cpu "$1"
}

# Busy ticks of the server's CPU from /proc/stat (user nice system irq softirq steal; the
# same USER_HZ unit). Minus the server's own ticks this shows how much of its core went to
# something else: other processes, and the interrupt work of loopback networking.
core_busy_ticks() {
  awk -v c="cpu$SERVER_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# Fails loudly when wrk saw errors: a benchmark of failing requests measures nothing.
# A server found to close every connection after one response (server_noka, python mode)
# may show read errors: wrk counts each close as one and reconnects. Nothing else is allowed.
check_wrk() {
  local name=$1 out=$2 key=${3:-}
  if [ -n "$key" ] && [ -n "${server_noka[$key]:-}" ] && ! grep -q 'Non-2xx' "$out" &&
     ! grep -E 'Socket errors' "$out" | grep -qvE 'connect 0, read [0-9]+, write 0, timeout 0'; then
    grep -q 'requests in' "$out" || { cat "$out" >&2; die "$name: wrk produced no result"; }
    return 0
  fi
  if grep -qE 'Socket errors|Non-2xx' "$out"; then
    echo "--- wrk output for $name:" >&2
    cat "$out" >&2
    die "$name: wrk reported socket errors or non-2xx responses (see above)"
  fi
  grep -q 'requests in' "$out" || { cat "$out" >&2; die "$name: wrk produced no result"; }
}

run_wrk() {
  local seconds=$1 port=$2 out=$3
  taskset -c "$wrk_cpus" wrk -t"$wrk_threads" -c"$tp_connections" -d"${seconds}s" --latency \
    "http://127.0.0.1:$port/" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
}

# Rounds: each round starts every server afresh, measures it once and stops it, the servers
# taking turns so that slow drifts of the machine hit all alike; tables show the median of the
# rounds. Fresh processes, because on a VM a process's kernel cost per request is set for its
# whole life: the same binary on the same port runs at ~6.2 or ~7.8 us/request (the
# difference is all kernel time in the TCP path), one process or the next, whatever the
# server. Rounds on one process would all draw the same; fresh ones are independent draws.
#
# One warmed-up, measured wrk run against $1; appends a line to $tmp/throughput.txt:
#   name round req/s p99_ms cpu_us_per_req server_cpu_percent core_other_percent
measure_throughput() {
  local name=$1 round=$2 pid=${server_pid[$1]} port=${server_port[$1]}
  local out=$tmp/wrk-$name-$round.txt t0 t1 c0 c1 requests elapsed rps p99
  run_wrk "$WARMUP_S" "$port" "$tmp/wrk-$name-$round-warmup.txt"
  check_wrk "$name (warm-up)" "$tmp/wrk-$name-$round-warmup.txt" "$name"
  t0=$(cpu_ticks "$pid")
  c0=$(core_busy_ticks)
  run_wrk "$duration" "$port" "$out"
  c1=$(core_busy_ticks)
  t1=$(cpu_ticks "$pid")
  check_wrk "$name" "$out" "$name"
  requests=$(awk '/ requests in / { print $1 }' "$out")
  # wrk runs a little longer than asked ("in 10.05s"): use its own figure for CPU %.
  elapsed=$(awk '/ requests in / { v = $4; sub(/,$/, "", v); u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                                    print v * ((u == "m") ? 60 : (u == "h") ? 3600 : 1) }' "$out")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  # wrk prints 99% latency as e.g. 850.00us, 1.23ms or 1.02s; convert to ms.
  p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                           f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1;
                           printf "%.3f", v * f }' "$out")
  [ "${requests:-0}" -gt 0 ] || die "$name: wrk completed no requests"
  awk -v n="$name" -v r="$round" -v rps="$rps" -v p99="$p99" -v ticks=$((t1 - t0)) \
      -v hz="$clk_tck" -v req="$requests" -v d="$elapsed" -v core=$((c1 - c0)) \
      'BEGIN { other = (core - ticks) / hz / d * 100; if (other < 0) other = 0
              printf "%s %d %.0f %s %.2f %.0f %.0f\n", n, r, rps, p99, ticks / hz * 1e6 / req, ticks / hz / d * 100, other }' \
      >>"$tmp/throughput.txt"
  tail -n 1 "$tmp/throughput.txt" | awk -v cpu="$SERVER_CPU" '{ printf "  round %d %-6s %10s req/s  p99 %8.3f ms  %7.2f us CPU/req  server CPU %s%%  CPU %s other use %s%%\n", $2, $1, $3, $4, $5, $6, cpu, $7 }'
}

throughput() {
  local name round
  echo "== throughput: wrk -t1 -c$tp_connections -d${duration}s --latency, $rounds round(s), ${WARMUP_S}s warm-up each"
  : >"$tmp/throughput.txt"
  for ((round = 1; round <= rounds; round++)); do
    for name in $only; do
      "start_$name" 4096
      measure_throughput "$name" "$round"
      stop_server "$name"
    done
  done

  echo
  echo "median of $rounds round(s):"
  printf '  %-6s %12s %12s %16s %12s %14s\n' server "req/s" "p99 (ms)" "CPU us/req" "server CPU" "CPU $SERVER_CPU other"
  declare -A med_rps=() med_cpu=()
  for name in $only; do
    med_rps[$name]=$(awk -v n="$name" '$1 == n { print $3 }' "$tmp/throughput.txt" | median)
    med_cpu[$name]=$(awk -v n="$name" '$1 == n { print $5 }' "$tmp/throughput.txt" | median)
    printf '  %-6s %12.0f %12.3f %16.2f %11.0f%% %13.0f%%\n' "$name" "${med_rps[$name]}" \
      "$(awk -v n="$name" '$1 == n { print $4 }' "$tmp/throughput.txt" | median)" \
      "${med_cpu[$name]}" \
      "$(awk -v n="$name" '$1 == n { print $6 }' "$tmp/throughput.txt" | median)" \
      "$(awk -v n="$name" '$1 == n { print $7 }' "$tmp/throughput.txt" | median)"
  done
  if [ "$only" = "asgid nginx" ]; then
    awk -v ar="${med_rps[asgid]}" -v nr="${med_rps[nginx]}" -v ac="${med_cpu[asgid]}" -v nc="${med_cpu[nginx]}" 'BEGIN {
      printf "  asgid/nginx req/s:       %.2f  (above 1: asgid serves more)\n", ar / nr
      printf "  asgid/nginx CPU/request: %.2f  (below 1: asgid spends less CPU per request; the main figure)\n", ac / nc }'
  fi
  echo
}

# ------------------------------------------------------------------ 1 vs 2 workers
# asgid alone with one worker, then two, neither pinned: on a 2-core machine the workers and
# wrk share both CPUs, so this shows what a second worker buys when the load generator
# competes for the same cores (on a real host the clients are elsewhere).
workers_scaling() {
  local name round workers all_cpus
  all_cpus=$(seq -s, 0 $(($(nproc) - 1)))
  echo "== workers: asgid with 1 and 2 workers, wrk -t2 -c$tp_connections -d${duration}s, all CPUs shared"
  : >"$tmp/throughput.txt"
  wrk_cpus=$all_cpus wrk_threads=2
  for ((round = 1; round <= rounds; round++)); do
    for workers in 1 2; do
      start_asgid 4096 "asgid-${workers}w" "$workers" "$all_cpus"
      measure_throughput "asgid-${workers}w" "$round"
      stop_server "asgid-${workers}w"
    done
  done
  wrk_cpus=$CLIENT_CPU wrk_threads=1
  echo
  echo "median of $rounds round(s):"
  declare -A med_rps=()
  for name in asgid-1w asgid-2w; do
    med_rps[$name]=$(awk -v n="$name" '$1 == n { print $3 }' "$tmp/throughput.txt" | median)
    printf '  %-9s %10.0f req/s %10.2f us CPU/req\n' "$name" "${med_rps[$name]}" \
      "$(awk -v n="$name" '$1 == n { print $5 }' "$tmp/throughput.txt" | median)"
  done
  awk -v a="${med_rps[asgid-1w]}" -v b="${med_rps[asgid-2w]}" \
    'BEGIN { printf "  2 workers / 1 worker req/s: %.2f\n", b / a }'
  echo
}

# ------------------------------------------------------------------ idle connections
# The open-file limit and the connection cap every server gets for the idle crowd.
idle_prepare() {
  local hard
  hard=$(ulimit -Hn)
  if [ "$hard" != unlimited ] && [ "$hard" -lt $((idle_connections + 100)) ]; then
    die "open-file hard limit is $hard; $((idle_connections + 100)) needed for $idle_connections idle connections (raise it or pass fewer --connections)"
  fi
  # The server needs room for the idle crowd plus the fresh and sample requests.
  idle_maxconn=$((idle_connections + 2000))
  [ "$idle_maxconn" -ge 12000 ] || idle_maxconn=12000
  : >"$tmp/idle.txt"
}

# Runs the idle crowd against the already started server $1, records its line, stops it.
idle_one() {
  local name=$1 line
  if ! taskset -c "$CLIENT_CPU" "$PYTHON" "$here/idle_clients.py" --port "${server_port[$name]}" \
       --connections "$idle_connections" --server-pid "${server_pid[$name]}" \
       >"$tmp/idle-$name.txt" 2>&1; then
    cat "$tmp/idle-$name.txt" >&2
    die "$name: the idle-connection test failed (see above)"
  fi
  grep -v '^RESULT ' "$tmp/idle-$name.txt"
  line=$(grep '^RESULT ' "$tmp/idle-$name.txt")
  echo "$name ${line#RESULT }" >>"$tmp/idle.txt"
  stop_server "$name"
}

# The table of $tmp/idle.txt, and the memory ratio of every server to $1 when it was run.
idle_table() {
  local ref=$1 width
  width=$(awk '{ if (length($1) > w) w = length($1) } END { print (w > 6) ? w : 6 }' "$tmp/idle.txt")
  echo
  printf "  %-${width}s %12s %12s %12s %12s %14s %10s\n" server connections "RSS before" "RSS after" "per conn" "fresh (max 3)" sample
  # Lines look like: name ok=1 connections=N rss_before_kib=.. rss_after_kib=.. bytes_per_conn=.. fresh_ms=.. sample_ok=a/b closed=0
  awk -v w="$width" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
         printf "  %-*s %12d %9d KiB %9d KiB %8.2f KiB %11.2f ms %10s\n", w, $1, f["connections"],
                f["rss_before_kib"], f["rss_after_kib"], f["bytes_per_conn"] / 1024, f["fresh_ms"], f["sample_ok"] }' \
      "$tmp/idle.txt"
  awk -v ref="$ref" '{ n[NR] = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "bytes_per_conn") b[$1] = kv[2] } }
       END { if (!(ref in b) || b[ref] <= 0) exit
             for (i = 1; i <= NR; i++) if (n[i] != ref)
               printf "  %s/%s memory per idle connection: %.2f  (below 1: %s uses less)\n", n[i], ref, b[n[i]] / b[ref], n[i] }' \
      "$tmp/idle.txt"
  echo
}

idle() {
  local name
  idle_prepare
  echo "== idle: $idle_connections keep-alive connections, one request each, then held open"
  for name in $only; do
    echo "$name:"
    "start_$name" "$idle_maxconn"
    idle_one "$name"
  done
  idle_table nginx
}

# ------------------------------------------------------------------ python mode
# Median table of $tmp/throughput.txt for the servers $2..., with ratios to $1 (uvicorn).
python_table() {
  local ref=$1 name
  shift
  printf '  %-24s %10s %10s %12s %11s %11s %12s %14s\n' server "req/s" "p99 (ms)" "CPU us/req" "server CPU" "CPU $SERVER_CPU other" "req/s ratio" "CPU/req ratio"
  : >"$tmp/medians.txt"
  for name in "$@"; do
    printf '%s %s %s %s %s %s\n' "$name" \
      "$(awk -v n="$name" '$1 == n { print $3 }' "$tmp/throughput.txt" | median)" \
      "$(awk -v n="$name" '$1 == n { print $4 }' "$tmp/throughput.txt" | median)" \
      "$(awk -v n="$name" '$1 == n { print $5 }' "$tmp/throughput.txt" | median)" \
      "$(awk -v n="$name" '$1 == n { print $6 }' "$tmp/throughput.txt" | median)" \
      "$(awk -v n="$name" '$1 == n { print $7 }' "$tmp/throughput.txt" | median)" >>"$tmp/medians.txt"
  done
  NOKA="${!server_noka[*]}" awk -v ref="$ref" 'BEGIN { split(ENVIRON["NOKA"], l, " "); for (i in l) noka[l[i]] = 1 }
    { n[NR] = $1; rps[$1] = $2; p99[$1] = $3; cpu[$1] = $4; sc[$1] = $5; oth[$1] = $6 }
    END { for (i = 1; i <= NR; i++) {
            k = n[i]; rr = "-"; cr = "-"
            if ((ref in rps) && rps[ref] > 0 && cpu[ref] > 0) { rr = sprintf("%.2f", rps[k] / rps[ref]); cr = sprintf("%.2f", cpu[k] / cpu[ref]) }
            printf "  %-24s %10.0f %10.3f %12.2f %10.0f%% %10.0f%% %12s %14s\n", k (k in noka ? " *" : ""), rps[k], p99[k], cpu[k], sc[k], oth[k], rr, cr } }' \
      "$tmp/medians.txt"
  for name in "$@"; do
    if [ -n "${server_noka[$name]:-}" ]; then
      echo "  * $name closed the connection after every response: wrk opened a new connection per request, so its figures are not comparable"
    fi
  done
  if [[ " $* " == *" $ref "* ]]; then
    echo "  ratios are to $ref: req/s above 1 serves more; CPU/req below 1 spends less CPU per request (the main figure)"
  fi
}

python_mode() {
  local app kind name round
  local -a kinds names
  echo "== python: wrk -t1 -c$tp_connections -d${duration}s --latency, $rounds round(s), ${WARMUP_S}s warm-up each"
  echo "   servers: $only; apps: $py_apps (examples/python)"
  for app in $py_apps; do
    echo
    echo "-- app $app (${PY_APP_SPEC[$app]})"
    : >"$tmp/throughput.txt"
    kinds=()
    for kind in $only; do
      [ "$kind" = asgid-native ] && [ "$app" != hello ] && continue # only hello is native too
      kinds+=("$kind")
    done
    names=("${kinds[@]/#/$app-}")
    for ((round = 1; round <= rounds; round++)); do
      for kind in "${kinds[@]}"; do
        start_python "$kind" "$app" 4096
        measure_throughput "$app-$kind" "$round"
        stop_server "$app-$kind"
      done
    done
    cat "$tmp/throughput.txt" >>"$tmp/python-throughput.txt"
    echo
    echo "median of $rounds round(s), app $app:"
    python_table "$app-uvicorn" "${names[@]}"
  done
  echo

  [ "$py_idle" = 1 ] || return 0
  local -a idle_names=()
  for kind in asgid-asyncio asgid-uvloop uvicorn; do
    [[ " $only " == *" $kind "* ]] && idle_names+=("$kind")
  done
  [ "${#idle_names[@]}" -gt 0 ] || return 0
  idle_prepare
  echo "== python idle: $idle_connections keep-alive connections to the hello app, one request each, then held open"
  for kind in "${idle_names[@]}"; do
    echo "hello-$kind:"
    start_python "$kind" hello "$idle_maxconn"
    idle_one "hello-$kind"
  done
  idle_table hello-uvicorn
}

# ------------------------------------------------------------------ main
print_environment
case "$mode" in
  throughput) throughput ;;
  idle) idle ;;
  workers) workers_scaling ;;
  all) throughput; idle; workers_scaling ;;
  python) python_mode ;;
esac
