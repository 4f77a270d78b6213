#!/usr/bin/env bash
# Side-by-side benchmark of asgid against nginx on loopback. See bench/README.md.
#
#   bench/run.sh throughput [--duration 10] [--connections 64] [--rounds 5] [--only asgid|nginx]
#   bench/run.sh idle [--connections 10000] [--only asgid|nginx]
#   bench/run.sh workers [--duration 10] [--connections 64] [--rounds 5]   (asgid, 1 vs 2 workers)
#   bench/run.sh all [--duration 10] [--connections 64] [--idle-connections 10000] [--rounds 5]
#   bench/run.sh python [--duration 10] [--connections 64] [--rounds 5] [--idle-connections 10000]
#                [--only SERVER,...] [--apps hello,starlette,fastapi,django] [--no-idle]
#                (Python ASGI: asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn, and
#                asgid-native: the native hello, no Python, the floor under every Python server)
#   bench/run.sh callgrind [--requests 2000,6000] [--connections 8] [--rounds 1]
#                [--only asgid-uvloop,uvicorn] [--apps hello,starlette] [--keep-profiles DIR]
#                (instructions per request under valgrind --tool=callgrind: repeatable where
#                timings are not; servers among asgid-asyncio asgid-uvloop uvicorn asgid-native)
#   bench/run.sh websocket [--duration 5] [--rounds 5] [--sizes 64,4096] [--connections 1,64]
#                [--type binary|text] [--deflate] [--idle-connections 1000] [--no-idle]
#                [--only asgid-native,asgid-uvloop,uvicorn[,websockets]]
#                (WebSocket echo driven by build/bench/ws_load: messages/s, CPU per message, p99,
#                and memory per idle WebSocket with and without permessage-deflate)
#   bench/run.sh websocket --callgrind [--messages 2000,6000] [--connections 8] [--rounds 1]
#                [--sizes 64,4096] [--only ...] [--keep-profiles DIR]
#                (instructions per echoed message under valgrind --tool=callgrind)
#
# Environment: ASGID_BIN (default build/asgid), ASGID_EXAMPLES (default build/examples),
# PYTHON (default /usr/bin/python3, the system interpreter, not whatever is first on PATH),
# UVICORN, GUNICORN, HYPERCORN (default Debian's /usr/bin/uvicorn, gunicorn, hypercorn),
# WS_LOAD (default build/bench/ws_load, the websocket mode's load client),
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
  # The comment block at the top of this file, up to its first non-comment line.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
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
case "$mode" in throughput|idle|workers|all|python|callgrind|websocket) ;; -h|--help|help) usage ;; *) usage ;; esac

# The python mode's servers. The callgrind mode's are fewer: gunicorn's worker is uvicorn,
# counted as such; hypercorn closes connections after one response (see check_python_app),
# which the callgrind mode's exact request count does not allow.
PYTHON_SERVERS="asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn asgid-native"
CALLGRIND_SERVERS="asgid-asyncio asgid-uvloop uvicorn asgid-native"
# The apps of both. Each app: its spec (module:attribute), the directory it is imported
# from, and what it must answer: GET / (the benchmark route) with exactly this content type
# and body, and one more route (PY_APP_CHECK: "PATH BODY", none for hello) whose answer only
# the framework itself gives, not a stub. The check request is sent with Host: localhost
# and User-Agent: asgid-bench, both of which Django's view echoes.
PY_APPS="hello starlette fastapi django"
PY_EXAMPLES=$repo/examples/python
declare -A PY_APP_SPEC=([hello]=hello_asgi:app [starlette]=starlette_app:app
                        [fastapi]=fastapi_app:app [django]=django_project.asgi:application)
declare -A PY_APP_DIR=([hello]=$PY_EXAMPLES [starlette]=$PY_EXAMPLES [fastapi]=$PY_EXAMPLES
                       [django]=$PY_EXAMPLES/django_project)
TEXT_PLAIN='text/plain; charset=utf-8'
declare -A PY_APP_TYPE=([hello]=$TEXT_PLAIN [starlette]=$TEXT_PLAIN [fastapi]=application/json
                        [django]=$TEXT_PLAIN)
declare -A PY_APP_BODY=([hello]=$EXPECTED_BODY [starlette]=$EXPECTED_BODY
                        [fastapi]='{"message":"Hello, world!"}' [django]=$EXPECTED_BODY)
declare -A PY_APP_CHECK=([hello]=""
  [starlette]='/items/7?q=x {"id":7,"q":"x"}'
  [fastapi]='/items/7?q=x {"item_id":7,"q":"x"}'
  [django]='/info/7?q=x {"number": 7, "method": "GET", "path": "/info/7", "query": {"q": "x"}, "host": "localhost", "scheme": "http", "user_agent": "asgid-bench"}')
UVICORN=${UVICORN:-/usr/bin/uvicorn}
GUNICORN=${GUNICORN:-/usr/bin/gunicorn}
HYPERCORN=${HYPERCORN:-/usr/bin/hypercorn}
py_apps=""  # per mode, below
py_idle=1
cg_requests="2000 6000"   # callgrind: the two runs' request counts
cg_connections=8
cg_keep=""                # callgrind: where to keep the profiles of the larger run
# The websocket mode's servers (websockets: the library alone, not run unless asked), its
# points (message sizes in bytes, connection counts) and message type.
WS_SERVERS="asgid-native asgid-uvloop uvicorn websockets"
WS_DEFAULT_SERVERS="asgid-native asgid-uvloop uvicorn"
WS_LOAD=${WS_LOAD:-$repo/build/bench/ws_load}
ws_sizes="64 4096"
ws_conns="1 64"
ws_type=binary
ws_deflate=()             # websocket: (--deflate) when the echoes are to be compressed
declare -A ws_skip=()     # websocket: server -> why it is not measured
ws_callgrind=""           # websocket --callgrind: instructions per message instead of timings
idle_given="" ws_conns_given="" messages_given=""

duration=""  # per mode, below
tp_connections=64
idle_connections=10000
rounds=""  # per mode, below
only="asgid nginx"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?}; shift 2 ;;
    --connections)
      # --connections belongs to the mode being run; under "all" it is wrk's.
      case "$mode" in
        idle) idle_connections=${2:?} ;;
        callgrind) cg_connections=${2:?} ;;
        websocket)
          ws_conns=${2:?}; ws_conns=${ws_conns//,/ }; ws_conns_given=1
          for n in $ws_conns; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--connections takes connection counts, comma-separated"; done ;;
        *) tp_connections=${2:?} ;;
      esac
      shift 2 ;;
    --idle-connections) idle_connections=${2:?}; idle_given=1; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --only)
      if [ "$mode" = python ] || [ "$mode" = callgrind ] || [ "$mode" = websocket ]; then
        servers=$PYTHON_SERVERS
        [ "$mode" = callgrind ] && servers=$CALLGRIND_SERVERS
        [ "$mode" = websocket ] && servers=$WS_SERVERS
        only=${2:?}; only=${only//,/ }
        for n in $only; do
          [[ " $servers " == *" $n "* ]] || die "--only takes servers among: $servers (comma-separated)"
        done
      else
        case "${2:-}" in asgid|nginx) only=$2 ;; *) die "--only takes asgid or nginx" ;; esac
      fi
      shift 2 ;;
    --apps)
      [ "$mode" = python ] || [ "$mode" = callgrind ] || die "--apps belongs to the python and callgrind modes"
      py_apps=${2:?}; py_apps=${py_apps//,/ }
      for n in $py_apps; do [ -n "${PY_APP_SPEC[$n]:-}" ] || die "--apps takes apps among: $PY_APPS (comma-separated)"; done
      shift 2 ;;
    --no-idle)
      [ "$mode" = python ] || [ "$mode" = websocket ] || die "--no-idle belongs to the python and websocket modes"
      py_idle=0; shift ;;
    --requests)
      [ "$mode" = callgrind ] || die "--requests belongs to the callgrind mode"
      [[ "${2:-}" =~ ^([1-9][0-9]*),([1-9][0-9]*)$ ]] && [ "${BASH_REMATCH[2]}" -gt "${BASH_REMATCH[1]}" ] ||
        die "--requests takes N1,N2: two request counts, N2 > N1"
      cg_requests="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; shift 2 ;;
    --sizes)
      [ "$mode" = websocket ] || die "--sizes belongs to the websocket mode"
      ws_sizes=${2:?}; ws_sizes=${ws_sizes//,/ }
      for n in $ws_sizes; do [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -le 16777216 ] || die "--sizes takes message sizes in bytes (at most 16 MiB), comma-separated"; done
      shift 2 ;;
    --deflate)
      [ "$mode" = websocket ] || die "--deflate belongs to the websocket mode"
      ws_deflate=(--deflate); shift ;;
    --type)
      [ "$mode" = websocket ] || die "--type belongs to the websocket mode"
      case "${2:-}" in binary|text) ws_type=$2 ;; *) die "--type takes binary or text" ;; esac
      shift 2 ;;
    --callgrind)
      [ "$mode" = websocket ] || die "--callgrind belongs to the websocket mode (the callgrind mode counts HTTP requests)"
      ws_callgrind=1; shift ;;
    --messages)
      [ "$mode" = websocket ] || die "--messages belongs to the websocket mode with --callgrind"
      [[ "${2:-}" =~ ^([1-9][0-9]*),([1-9][0-9]*)$ ]] && [ "${BASH_REMATCH[2]}" -gt "${BASH_REMATCH[1]}" ] ||
        die "--messages takes N1,N2: two message counts, N2 > N1"
      cg_requests="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; messages_given=1; shift 2 ;;
    --keep-profiles)
      [ "$mode" = callgrind ] || [ "$mode" = websocket ] || die "--keep-profiles belongs to the callgrind and websocket --callgrind modes"
      cg_keep=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
# callgrind runs are slow and repeatable: one round and two apps unless asked otherwise.
if [ "$mode" = callgrind ]; then
  rounds=${rounds:-1} py_apps=${py_apps:-hello starlette}
elif [ "$mode" = websocket ] && [ -n "$ws_callgrind" ]; then
  # As the callgrind mode: counts repeat, one round will do; a few connections, as many
  # messages on each.
  rounds=${rounds:-1}
  [ -n "$ws_conns_given" ] || ws_conns=8
  for n in $ws_conns; do
    [ $((${cg_requests% *} % n)) -eq 0 ] && [ $((${cg_requests#* } % n)) -eq 0 ] ||
      die "--messages ${cg_requests// /,}: each count must be a multiple of every --connections ($n)"
  done
elif [ "$mode" = websocket ]; then
  # Four points per server, each started afresh per round: shorter runs than HTTP's, and a
  # thousand idle WebSockets, not ten thousand (with deflate they cost some 100 KiB each).
  rounds=${rounds:-5} duration=${duration:-5}
  [ -n "$idle_given" ] || idle_connections=1000
  [ -z "$messages_given" ] && [ -z "$cg_keep" ] || die "--messages and --keep-profiles go with --callgrind"
else
  rounds=${rounds:-5} py_apps=${py_apps:-$PY_APPS}
fi
duration=${duration:-10}
for n in "$duration" "$tp_connections" "$idle_connections" "$rounds" "$cg_connections"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done

# ------------------------------------------------------------------ prerequisites
command -v taskset >/dev/null || die "taskset not found (package util-linux)"
command -v curl >/dev/null || die "curl not found"
[ -x "$PYTHON" ] || die "$PYTHON not found; set PYTHON to a Python 3 interpreter"
if [ "$mode" = python ] || [ "$mode" = callgrind ]; then
  # Validated here rather than with the nginx/asgid checks below, which do not apply.
  if [ "$only" = "asgid nginx" ]; then
    if [ "$mode" = python ]; then only=$PYTHON_SERVERS; else only="asgid-uvloop uvicorn"; fi
  fi
  for n in $only; do
    case "$n" in
      asgid-native)
        [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
        [ -f "$ASGID_EXAMPLES/hello.so" ] || die "$ASGID_EXAMPLES/hello.so not found (build target example_hello, or set ASGID_EXAMPLES)" ;;
      asgid-*)
        [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
        # Ask the binary whether it can run the class at all (built with Python? uvloop?).
        if ! out=$("$ASGID_BIN" --app hello_asgi:app --app-dir "$PY_EXAMPLES" --worker-class "${n#asgid-}" --check-config 2>&1); then
          die "$ASGID_BIN cannot run worker_class ${n#asgid-}: $out (leave it out with --only)"
        fi ;;
      uvicorn) [ -x "$UVICORN" ] || die "$UVICORN not found (Debian package uvicorn; or set UVICORN)" ;;
      gunicorn) [ -x "$GUNICORN" ] || die "$GUNICORN not found (Debian package gunicorn; or set GUNICORN)"
                "$PYTHON" -c 'import uvicorn.workers' 2>/dev/null || die "uvicorn.workers not importable by $PYTHON (gunicorn's worker class)" ;;
      hypercorn) [ -x "$HYPERCORN" ] || die "$HYPERCORN not found (Debian package python3-hypercorn; or set HYPERCORN)" ;;
    esac
  done
  "$PYTHON" -c 'import uvloop, httptools' 2>/dev/null || die "$PYTHON cannot import uvloop and httptools (python3-uvloop python3-httptools)"
  # Import each app as the servers will: a missing file or framework is reported here.
  for n in $py_apps; do
    out=$(cd "${PY_APP_DIR[$n]}" && "$PYTHON" -c 'import importlib, sys
sys.path.insert(0, ".")
module, _, attr = sys.argv[1].partition(":")
getattr(importlib.import_module(module), attr)' "${PY_APP_SPEC[$n]}" 2>&1) ||
      die "$PYTHON cannot import app $n (${PY_APP_SPEC[$n]} from ${PY_APP_DIR[$n]}): $(tail -n 1 <<<"$out")"
  done
  if [ "$mode" = callgrind ]; then
    command -v valgrind >/dev/null || die "valgrind not found (Debian package valgrind)"
    if [ -n "$cg_keep" ]; then
      mkdir -p "$cg_keep" && [ -w "$cg_keep" ] || die "--keep-profiles: cannot write to $cg_keep"
      cg_keep=$(cd "$cg_keep" && pwd)
    fi
  fi
elif [ "$mode" = websocket ]; then
  [ "$only" = "asgid nginx" ] && only=$WS_DEFAULT_SERVERS
  [ -x "$WS_LOAD" ] || die "$WS_LOAD not found: build it (cmake --build build --target ws_load) or set WS_LOAD"
  if [ -n "$ws_callgrind" ]; then
    command -v valgrind >/dev/null || die "valgrind not found (Debian package valgrind)"
    if [ -n "$cg_keep" ]; then
      mkdir -p "$cg_keep" && [ -w "$cg_keep" ] || die "--keep-profiles: cannot write to $cg_keep"
      cg_keep=$(cd "$cg_keep" && pwd)
    fi
  fi
  # uvicorn runs on uvloop when it is there, as its users would run it.
  ws_loop=asyncio
  "$PYTHON" -c 'import uvloop' 2>/dev/null && ws_loop=uvloop
  for n in $only; do
    case "$n" in
      asgid-*)
        [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
        # Whether asgid speaks WebSocket is asked of asgid itself, by websocket_mode.
        if [ "$n" = asgid-native ]; then
          [ -f "$ASGID_EXAMPLES/ws_echo.so" ] ||
            ws_skip[$n]="$ASGID_EXAMPLES/ws_echo.so not found (examples/native/ws_echo.c, build target example_ws_echo)"
        elif ! out=$("$ASGID_BIN" --app ws_echo_app:app --app-dir "$here" --worker-class uvloop --check-config 2>&1); then
          die "$ASGID_BIN cannot run worker_class uvloop: $out (leave it out with --only)"
        fi ;;
      uvicorn)
        [ -x "$UVICORN" ] || die "$UVICORN not found (Debian package uvicorn; or set UVICORN)"
        "$PYTHON" -c 'import websockets, httptools' 2>/dev/null ||
          die "$PYTHON cannot import websockets and httptools (python3-websockets python3-httptools), which uvicorn --ws websockets --http httptools needs" ;;
      websockets)
        "$PYTHON" -c 'import websockets, uvloop' 2>/dev/null ||
          die "$PYTHON cannot import websockets and uvloop (python3-websockets python3-uvloop)" ;;
    esac
  done
elif [[ " $only " == *" nginx "* ]]; then
  command -v "$NGINX" >/dev/null || die "nginx not found (scripts/setup.sh installs it)"
fi
if [ "$mode" != python ] && [ "$mode" != callgrind ] && [ "$mode" != websocket ] && [[ " $only " == *" asgid "* ]]; then
  [ -x "$ASGID_BIN" ] || die "$ASGID_BIN not found or not executable; build it or set ASGID_BIN"
  [ -f "$ASGID_EXAMPLES/hello.so" ] || die "$ASGID_EXAMPLES/hello.so not found; set ASGID_EXAMPLES"
fi
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 CPUs (server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU)"
if [ "$mode" != idle ] && [ "$mode" != callgrind ] && [ "$mode" != websocket ]; then
  command -v wrk >/dev/null || die "wrk not found (scripts/setup.sh installs it)"
fi

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

# $2 = seconds the server has to exit after TERM (default 5; the callgrind mode gives more,
# as valgrind slows the shutdown too and a killed process writes no profile).
stop_server() {
  local name=$1 pid=${server_pid[$1]:-} grace=${2:-5} i st leftovers
  [ -n "$pid" ] || return 0
  leftovers=$(tree_pids "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    st=$(proc_state "$pid")
    if [ -z "$st" ] || [ "$st" = Z ]; then break; fi
    sleep 0.1
  done
  # Anything of this server's tree still alive after the grace time (a hung master, an
  # orphaned worker) is ended by its own pid.
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

# Poll until the server answers GET / with 200 and exactly the expected body: $2, by
# default the hello body.
wait_ready() {
  local name=$1 expected=${2-$EXPECTED_BODY} pid=${server_pid[$1]} port=${server_port[$1]} i code body st
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
      [ "${body%x}" = "$expected" ] || die "$name answered 200 with an unexpected body: $(head -c 100 "$tmp/$name.body" | od -c | head -3)"
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

# A Python ASGI server for the python mode, registered as "$app-$kind" (hello-uvicorn, ...),
# started, checked to answer right and to keep connections alive.
# $1 = kind (asgid-asyncio asgid-uvloop uvicorn gunicorn hypercorn asgid-native), $2 = app
# (among $PY_APPS), $3 = most connections it must hold.
start_python() {
  launch_python "$@"
  wait_ready "$2-$1" "${PY_APP_BODY[$2]}"
  check_python_app "$2-$1" "$2"
}

# Starts the server of start_python without waiting for it. Every server runs ONE worker
# process on the server CPU, with the app module imported from the app's directory,
# keep-alive connections kept for 300 s and no access log. Each runs from that directory
# (hypercorn imports from there). $4... = a command to run the server under (valgrind).
launch_python() {
  local kind=$1 app=$2 maxconn=$3 name=$2-$1 port spec=${PY_APP_SPEC[$2]} dir=${PY_APP_DIR[$2]}
  local -a cmd wrapper=("${@:4}")
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
      cmd=("$ASGID_BIN" --app "$spec" --app-dir "$dir" --worker-class "${kind#asgid-}"
           --bind "127.0.0.1:$port" --workers 1 --keepalive-timeout 300s
           --max-connections "$maxconn") ;;
    uvicorn)
      cmd=("$UVICORN" --app-dir "$dir" --host 127.0.0.1 --port "$port"
           --loop uvloop --http httptools --workers 1 --no-access-log
           --timeout-keep-alive 300 --log-level warning "$spec") ;;
    gunicorn)
      # UvicornWorker picks uvloop and httptools itself (loop/http "auto"). gunicorn has no
      # access log unless asked. One master plus one worker: both are measured.
      cmd=("$GUNICORN" -k uvicorn.workers.UvicornWorker -w 1 --bind "127.0.0.1:$port"
           --chdir "$dir" --keep-alive 300 --log-level warning "$spec") ;;
    hypercorn)
      # -w 1 runs the worker in this very process; its default worker class is asyncio.
      cmd=("$HYPERCORN" -w 1 --bind "127.0.0.1:$port" --keep-alive 300
           --log-level warning "$spec") ;;
    *) die "unknown Python server $kind" ;;
  esac
  cmd=("${wrapper[@]}" "${cmd[@]}")
  echo "${cmd[*]}" >"$tmp/$name.cmd"
  # The subshell execs taskset, which execs the server (valgrind execs its tool, which loads
  # the server into the same process): $! is the server's own pid.
  (cd "$dir" && exec taskset -c "$SERVER_CPU" "${cmd[@]}") >"$tmp/$name.log" 2>&1 &
  server_pid[$name]=$!
}

# The file holding the exact body app $1 answers GET / with, for keepalive_client.py.
body_file() {
  [ -f "$tmp/$1.expected-body" ] || printf '%s' "${PY_APP_BODY[$1]}" >"$tmp/$1.expected-body"
  echo "$tmp/$1.expected-body"
}

# Beyond the body wait_ready checked: the app is really the one we meant, served right.
check_python_app() {
  local name=$1 app=$2 port=${server_port[$1]} got path want
  got=$(curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$port/" | tr -d '\r' | tr 'A-Z' 'a-z')
  grep -qxF "content-type: ${PY_APP_TYPE[$app]}" <<<"$got" || die "$name: GET / has no content-type ${PY_APP_TYPE[$app]}: $got"
  grep -qxF "content-length: ${#PY_APP_BODY[$app]}" <<<"$got" || die "$name: GET / has no content-length ${#PY_APP_BODY[$app]}: $got"
  if [ -n "${PY_APP_CHECK[$app]}" ]; then
    path=${PY_APP_CHECK[$app]%% *} want=${PY_APP_CHECK[$app]#* }
    got=$(curl -s --max-time 5 -A asgid-bench -H 'Host: localhost' "http://127.0.0.1:$port$path")
    [ "$got" = "$want" ] || die "$name: GET $path answered '$got', expected '$want'"
  fi
  # Keep-alive: a second request on the same connection must be answered. Debian's
  # hypercorn 0.13.2 closes the connection after each response of an app that does not read
  # the request body (h11 has not yet seen the request end when the response is done).
  # Such a server is still measured, but wrk then opens a connection per request: the
  # tables mark it, and its figures are not comparable with the others'.
  if ! "$PYTHON" "$here/keepalive_client.py" --port "$port" --requests 2 --connections 1 \
       --body-file "$(body_file "$app")" --wait 5 --time-limit 5 >/dev/null 2>&1; then
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
  echo "          $("$PYTHON" -c 'import importlib.metadata as m
def version(p):
    try:
        return m.version(p)
    except m.PackageNotFoundError:
        return "(not installed)"
print(", ".join(f"{p} {version(p)}" for p in ("starlette", "fastapi", "pydantic", "django", "uvloop", "httptools")))')"
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
  case "$mode" in
    python) print_python_environment ;;
    websocket)
      [ -n "$ws_callgrind" ] && echo "valgrind: $(valgrind --version 2>&1)"
      echo "python:   $("$PYTHON" --version 2>&1) [$PYTHON]"
      echo "peers:    $("$UVICORN" --version 2>&1 | head -n 1); websockets $("$PYTHON" -c 'import websockets; print(websockets.__version__)' 2>/dev/null); loop $ws_loop"
      echo "client:   $WS_LOAD" ;;
    callgrind) print_python_environment; echo "valgrind: $(valgrind --version 2>&1)" ;;
    *) echo "nginx:    ${nginx_version:-(no output)}" ;;
  esac
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

# ------------------------------------------------------------------ callgrind mode
# Instructions per request, counted by valgrind --tool=callgrind. Unlike CPU time they do
# not depend on what else the machine is doing, so runs agree closely and small changes to
# a server show. Every server is started twice, fresh: once to serve N1 requests, once N2;
# the difference of the two runs' instruction totals removes everything that does not grow
# with the requests (start-up, lifespan, the readiness request, connecting, shutdown),
# leaving (Ir(N2) - Ir(N1)) / (N2 - N1) per request.
CG_START_S=120  # start-up and first answer under valgrind (some 50x slower than normal)
CG_STOP_S=120   # graceful exit under valgrind; a killed process writes no profile

# One server run under callgrind: start $1 (kind) serving $2 (app), send it exactly $3
# requests, stop it gracefully so that every process writes its profile, which a forked
# process does to a file of its own (%p). Appends a line per process to $tmp/callgrind.txt:
#   name round requests role Ir
# role: "server" when there is one process; else "master" (the pid started) and "worker"
# (its forked children: asgid's worker).
callgrind_run() {
  local kind=$1 app=$2 requests=$3 round=$4 name=$2-$1 dir pid
  dir=$tmp/callgrind/$name-r$round-$requests
  mkdir -p "$dir"  # callgrind opens its output file at start-up: the directory must exist
  # A worker under valgrind could outlast asgid's hung-worker timeout (30 s) while it imports
  # a framework, and be killed; the variable is asgid's and means nothing to the others.
  ASGID_TIMEOUT=1h launch_python "$kind" "$app" 64 \
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p"
  pid=${server_pid[$name]}
  if ! taskset -c "$CLIENT_CPU" "$PYTHON" "$here/keepalive_client.py" --port "${server_port[$name]}" \
       --requests "$requests" --connections "$cg_connections" --body-file "$(body_file "$app")" \
       --server-pid "$pid" --wait "$CG_START_S" >"$dir/client.txt" 2>&1; then
    cat "$dir/client.txt" >&2
    echo "--- $name log (${server_log[$name]}):" >&2
    tail -n 20 "${server_log[$name]}" >&2 || true
    die "$name under callgrind: the client failed (see above)"
  fi
  stop_server "$name" "$CG_STOP_S"
  mv "${server_log[$name]}" "$dir/server.log"
  callgrind_record "$name" "$round" "$requests" "$dir" "$pid"
  awk '/^RESULT / { sub(/.*seconds=/, ""); printf "%s", $1 }' "$dir/client.txt" >"$dir/seconds"
}

# The totals of the profiles in $4 of server $1 (pid $5), round $2, $3 requests or messages:
# a line per process appended to $tmp/callgrind.txt (see callgrind_run).
callgrind_record() {
  local name=$1 round=$2 count=$3 dir=$4 pid=$5 f ir role nfiles
  nfiles=$(find "$dir" -name 'callgrind.out.*' | wc -l)
  [ "$nfiles" -gt 0 ] || die "$name: no callgrind profile in $dir; see $dir/server.log"
  for f in "$dir"/callgrind.out.*; do
    # "totals:" is the whole run's count, written when the process exits normally.
    ir=$(awk '$1 == "totals:" { print $2 }' "$f")
    [ -n "$ir" ] || die "$name: $f has no totals (the process was killed?); see $dir/server.log"
    if [ "$nfiles" -eq 1 ]; then role=server
    elif [ "${f##*.}" = "$pid" ]; then role=master
    else role=worker
    fi
    echo "$name $round $count $role $ir" >>"$tmp/callgrind.txt"
    if [ -n "$cg_keep" ] && [ "$count" = "${cg_requests#* }" ]; then
      cp "$f" "$cg_keep/callgrind.out.$name.$role"
    fi
  done
}

# awk functions for the callgrind tables. group: an integer's digits grouped by thousands
# (mawk's printf has no %'d). median: of the numbers in a space-separated list.
CG_AWK_LIB='
function group(n,   s, sign, out) {
  s = sprintf("%.0f", n); sign = ""
  if (s ~ /^-/) { sign = "-"; s = substr(s, 2) }
  out = ""
  while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
  return sign s out
}
function median(list,   a, m, i, j, t) {
  m = split(list, a, " ")
  for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}'

# One line for server $1 in round $2 from $tmp/callgrind.txt: "name round total role=... ...",
# instructions per request in all, then of each process role.
callgrind_per_request() {
  local n1=${cg_requests% *} n2=${cg_requests#* }
  awk -v n="$1" -v r="$2" -v n1="$n1" -v n2="$n2" '$1 == n && $2 == r {
      d = ($3 == n2) ? 1 : -1; total += d * $5; role[$4] += d * $5 }
    END { printf "%s %d %.0f", n, r, total / (n2 - n1)
          for (k in role) printf " %s=%.0f", k, role[k] / (n2 - n1); print "" }' "$tmp/callgrind.txt"
}

# The median table of $tmp/callgrind-rounds.txt (lines of callgrind_per_request), with the
# ratios to server $1; $2 names the unit (request, message).
callgrind_table() {
  local ref=$1 unit=$2
  awk -v ref="$ref" -v unit="$unit" -v rounds="$rounds" "$CG_AWK_LIB"'
    { if (!($1 in total)) { order[++n] = $1; roles[$1] = "" }
      total[$1] = total[$1] " " $3
      v = $3 + 0
      if (!($1 in lo) || v < lo[$1]) lo[$1] = v
      if (!($1 in hi) || v > hi[$1]) hi[$1] = v
      for (i = 4; i <= NF; i++) {
        split($i, kv, "=")
        if (!(($1, kv[1]) in per)) roles[$1] = roles[$1] " " kv[1]
        per[$1, kv[1]] = per[$1, kv[1]] " " kv[2] } }
    END {
      printf "  %-24s %14s %20s   %s\n", "server", "Ir/" unit, "spread (max-min)", "of which, per process"
      for (i = 1; i <= n; i++) {
        k = order[i]; med[k] = median(total[k])
        m = split(roles[k], r, " "); parts = ""
        for (j = 1; j <= m; j++) parts = parts (j > 1 ? ", " : "") r[j] " " group(median(per[k, r[j]]))
        spread = (rounds > 1) ? sprintf("%s (%.2f%%)", group(hi[k] - lo[k]), (hi[k] - lo[k]) / med[k] * 100) : "-"
        printf "  %-24s %14s %20s   %s\n", k, group(med[k]), spread, parts }
      for (i = 1; i <= n; i++)
        if (order[i] != ref && (ref in med) && med[ref] > 0)
          printf "  %s/%s instructions per %s: %.2f  (below 1: fewer)\n", order[i], ref, unit, med[order[i]] / med[ref] }' \
    "$tmp/callgrind-rounds.txt"
}

callgrind_mode() {
  local app kind name round requests n1=${cg_requests% *} n2=${cg_requests#* }
  local -a kinds
  echo "== callgrind: instructions per request under valgrind --tool=callgrind: each server started afresh"
  echo "   for $n1 and for $n2 requests (GET /, $cg_connections keep-alive connections); (Ir($n2) - Ir($n1)) / $((n2 - n1)); $rounds round(s)"
  echo "   servers: $only; apps: $py_apps"
  : >"$tmp/callgrind.txt"
  for app in $py_apps; do
    echo
    echo "-- app $app (${PY_APP_SPEC[$app]})"
    kinds=()
    for kind in $only; do
      [ "$kind" = asgid-native ] && [ "$app" != hello ] && continue # only hello is native too
      kinds+=("$kind")
    done
    : >"$tmp/callgrind-rounds.txt"
    for ((round = 1; round <= rounds; round++)); do
      for kind in "${kinds[@]}"; do
        name=$app-$kind
        for requests in $n1 $n2; do callgrind_run "$kind" "$app" "$requests" "$round"; done
        callgrind_per_request "$name" "$round" | tee -a "$tmp/callgrind-rounds.txt" |
          awk -v t1="$(cat "$tmp/callgrind/$name-r$round-$n1/seconds")" \
              -v t2="$(cat "$tmp/callgrind/$name-r$round-$n2/seconds")" "$CG_AWK_LIB"'
            { parts = ""
              for (i = 4; i <= NF; i++) { split($i, kv, "="); parts = parts (i > 4 ? ", " : "") kv[1] " " group(kv[2]) }
              printf "  round %d %-24s %12s Ir/request (%s); the requests took %s s and %s s\n", $2, $1, group($3), parts, t1, t2 }'
      done
    done
    echo
    echo "median of $rounds round(s), app $app:"
    callgrind_table "$app-uvicorn" request
  done
  echo
  if [ -n "$cg_keep" ]; then
    echo "profiles of the $n2-request runs (of the last round) kept as $cg_keep/callgrind.out.APP-SERVER.ROLE;"
    echo "read them with callgrind_annotate FILE"
  fi
}

# ------------------------------------------------------------------ websocket mode
# WebSocket echo, driven by bench/ws_load (C, libuv; its header comment says what it
# measures). Every server runs the same echo: bench/ws_echo_app.py under asgid's uvloop class
# and under uvicorn, examples/native/ws_echo.c under asgid's event class, and
# bench/ws_echo_websockets.py, the websockets library alone. One worker process each, pinned
# to the server CPU; ws_load on the client CPU.
WS_WARMUP_S=1
WS_IDLE_SIZE=64
WS_HOLD_S=120     # the longest ws_load holds the idle crowd before it gives up
WS_READY_S=15     # startup: until the server echoes

# Starts server $1 (kind) with room for $2 connections, registered under its kind, and
# waits until it echoes a message of $3 bytes.
start_ws() {
  launch_ws "$1" "$2"
  ws_wait_ready "$1" "$3"
}

# Starts the server of start_ws without waiting for it; $3... = a command to run it under
# (valgrind).
launch_ws() {
  local kind=$1 maxconn=$2 port
  local -a cmd wrapper=("${@:3}")
  port=$(free_port)
  server_port[$kind]=$port
  server_log[$kind]=$tmp/$kind.log
  case "$kind" in
    asgid-native)
      cmd=("$ASGID_BIN" --app "$ASGID_EXAMPLES/ws_echo.so" --worker-class event --workers 1
           --bind "127.0.0.1:$port" --max-connections "$maxconn") ;;
    asgid-uvloop)
      cmd=("$ASGID_BIN" --app ws_echo_app:app --app-dir "$here" --worker-class uvloop --workers 1
           --bind "127.0.0.1:$port" --max-connections "$maxconn") ;;
    uvicorn)
      cmd=("$UVICORN" --app-dir "$here" --host 127.0.0.1 --port "$port" --loop "$ws_loop"
           --http httptools --ws websockets --workers 1 --no-access-log --log-level warning
           ws_echo_app:app) ;;
    websockets)
      cmd=("$PYTHON" "$here/ws_echo_websockets.py" "$port") ;;
    *) die "unknown WebSocket server $kind" ;;
  esac
  cmd=("${wrapper[@]}" "${cmd[@]}")
  echo "${cmd[*]}" >"$tmp/$kind.cmd"
  # The subshell execs taskset, which execs the server: $! is the server's own pid.
  (cd "$here" && exec taskset -c "$SERVER_CPU" "${cmd[@]}") >"$tmp/$kind.log" 2>&1 &
  server_pid[$kind]=$!
}

# Polls with ws_load itself (two echoes on one connection) until the server answers. A
# server that answers the handshake with anything but 101 fails the run at once, except
# with $3 set, when the echo app's own 426 returns 3: the handshake reached the app as a
# plain HTTP request, the server does not speak WebSocket.
ws_wait_ready() {
  local name=$1 size=$2 plain_http_ok=${3:-} pid=${server_pid[$1]} rc st deadline=$((SECONDS + WS_READY_S))
  while :; do
    st=$(proc_state "$pid")
    if [ -z "$st" ] || [ "$st" = Z ]; then
      echo "--- $name log (${server_log[$name]}):" >&2
      tail -n 20 "${server_log[$name]}" >&2 || true
      die "$name exited during startup"
    fi
    rc=0
    "$WS_LOAD" --port "${server_port[$name]}" --messages 2 --size "$size" --type "$ws_type" \
      "${ws_deflate[@]}" --timeout 2 --time-limit 5 >"$tmp/$name.probe" 2>&1 || rc=$?
    [ "$rc" = 0 ] && return 0
    if [ "$rc" = 3 ]; then
      [ -n "$plain_http_ok" ] && grep -q "'HTTP/1.1 426 Upgrade Required'" "$tmp/$name.probe" && return 3
      die "$name: $(tail -n 1 "$tmp/$name.probe")"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "--- $name log (${server_log[$name]}):" >&2
      tail -n 20 "${server_log[$name]}" >&2 || true
      die "$name did not echo within ${WS_READY_S} s: $(tail -n 1 "$tmp/$name.probe")"
    fi
    sleep 0.1
  done
}

# One measured ws_load run against the started server $1; appends to $tmp/ws.txt:
#   name size connections round msg/s p99_ms cpu_us_per_msg server_cpu_% core_other_% client_us_per_msg
#   client_cpu_% client_core_other_%
# ws_load reads the CPU time of the server's processes itself, at the edges of its measured
# window (after the warm-up), and both cores' busy time for the "other" use of each.
measure_ws() {
  local name=$1 size=$2 conns=$3 round=$4 pids out=$tmp/ws-$1-$2-$3-$4.txt
  pids=$(tree_pids "${server_pid[$name]}")
  if ! taskset -c "$CLIENT_CPU" "$WS_LOAD" --port "${server_port[$name]}" --connections "$conns" \
       --size "$size" --type "$ws_type" "${ws_deflate[@]}" --warmup "$WS_WARMUP_S" --duration "$duration" \
       --server-pids "${pids// /,}" --server-cpu "$SERVER_CPU" --client-cpu "$CLIENT_CPU" >"$out" 2>&1; then
    cat "$out" >&2
    echo "--- $name log (${server_log[$name]}):" >&2
    tail -n 20 "${server_log[$name]}" >&2 || true
    die "$name: ws_load failed (see above)"
  fi
  if [ "${#ws_deflate[@]}" -gt 0 ] && ! grep -q '^RESULT .* deflate=1 ' "$out"; then
    cat "$out" >&2
    die "$name: permessage-deflate was offered and not negotiated (see above)"
  fi
  awk -v n="$name" -v s="$size" -v c="$conns" -v r="$round" '/^RESULT / {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["server_cpu_us_per_msg"] < 0 || f["messages"] <= 0) exit 1
      printf "%s %s %s %d %s %s %s %s %s %s %s %s\n", n, s, c, r, f["msgs_per_s"], f["p99_ms"],
             f["server_cpu_us_per_msg"], f["server_cpu_percent"], f["core_other_percent"], f["client_cpu_us_per_msg"],
             f["client_cpu_percent"], f["client_core_other_percent"]
      found = 1 }
    END { exit !found }' "$out" >>"$tmp/ws.txt" ||
    { cat "$out" >&2; die "$name: ws_load gave no result with the server's CPU time (its processes: $pids)"; }
  tail -n 1 "$tmp/ws.txt" | awk -v cpu="$SERVER_CPU" -v ccpu="$CLIENT_CPU" '{ printf "  round %d %-13s %9.0f msg/s  p99 %8.3f ms  %7.2f us CPU/msg  server CPU %3s%%  CPU %s other %3s%%  client %5.2f us/msg, %3s%% CPU  CPU %s other %3s%%\n", $4, $1, $5, $6, $7, $8, cpu, $9, $10, $11, ccpu, $12 }'
}

# Median table of $tmp/ws.txt for size $1 and connections $2, servers in the order $3...;
# spread is (highest - lowest) / median over the rounds; ratios are to uvicorn. Appends the
# medians to $tmp/ws-medians.txt for the summary.
ws_table() {
  local size=$1 conns=$2
  shift 2
  printf '  %-13s %9s %7s %9s %11s %7s %11s %12s %10s %11s %12s %12s %14s\n' server "msg/s" spread "p99 (ms)" "CPU us/msg" spread \
    "server CPU" "CPU $SERVER_CPU other" "client us" "client CPU" "CPU $CLIENT_CPU other" "msg/s ratio" "CPU/msg ratio"
  ORDER="$*" awk -v s="$size" -v c="$conns" -v medians="$tmp/ws-medians.txt" "$CG_AWK_LIB"'
    function spread(list,   a, m, i, lo, hi, med) {
      m = split(list, a, " "); if (m < 2) return "-"
      lo = hi = a[1] + 0
      for (i = 2; i <= m; i++) { if (a[i] + 0 < lo) lo = a[i] + 0; if (a[i] + 0 > hi) hi = a[i] + 0 }
      med = median(list); return (med > 0) ? sprintf("%.0f%%", (hi - lo) / med * 100) : "-" }
    $2 == s && $3 == c { rps[$1] = rps[$1] " " $5; p99[$1] = p99[$1] " " $6; cpu[$1] = cpu[$1] " " $7
                         sc[$1] = sc[$1] " " $8; oth[$1] = oth[$1] " " $9; cl[$1] = cl[$1] " " $10
                         clp[$1] = clp[$1] " " $11; coth[$1] = coth[$1] " " $12 }
    END {
      n = split(ENVIRON["ORDER"], order, " ")
      ref = "uvicorn"; has_ref = (ref in rps)
      if (has_ref) { ref_rps = median(rps[ref]); ref_cpu = median(cpu[ref]) }
      for (i = 1; i <= n; i++) {
        k = order[i]; if (!(k in rps)) continue
        r = median(rps[k]); u = median(cpu[k]); rr = "-"; cr = "-"
        if (has_ref && ref_rps > 0 && ref_cpu > 0) { rr = sprintf("%.2f", r / ref_rps); cr = sprintf("%.2f", u / ref_cpu) }
        printf "  %-13s %9.0f %7s %9.3f %11.2f %7s %10.0f%% %11.0f%% %10.2f %10.0f%% %11.0f%% %12s %14s\n", k, r, spread(rps[k]),
               median(p99[k]), u, spread(cpu[k]), median(sc[k]), median(oth[k]), median(cl[k]), median(clp[k]), median(coth[k]), rr, cr
        printf "%s %s %s %.0f %.3f %.2f %s %s\n", k, s, c, r, median(p99[k]), u, rr, cr >> medians } }' "$tmp/ws.txt"
}

# Holds $idle_connections WebSockets (deflate $2: off or on) open against the started server
# $1 and records the growth of its RSS; each connection first echoes one message, so that a
# negotiated deflate has its zlib streams allocated on both sides. Appends to
# $tmp/ws-idle.txt: name deflate connections rss_before_kib rss_after_kib negotiated...
ws_idle_one() {
  local name=$1 deflate=$2 out=$tmp/ws-idle-$1-$2.txt before after cpid rc=0 i st negotiated
  local -a flag=()
  [ "$deflate" = on ] && flag=(--deflate)
  before=$("$PYTHON" "$here/proctree.py" rss "${server_pid[$name]}")
  taskset -c "$CLIENT_CPU" "$WS_LOAD" --port "${server_port[$name]}" --connections "$idle_connections" \
    --size "$WS_IDLE_SIZE" --type "$ws_type" --hold "$WS_HOLD_S" "${flag[@]}" >"$out" 2>&1 &
  cpid=$!
  for ((i = 0; i < 600; i++)); do # 60 s to open them all
    grep -q '^READY ' "$out" && break
    st=$(proc_state "$cpid")
    if [ -z "$st" ] || [ "$st" = Z ]; then break; fi
    sleep 0.1
  done
  if ! grep -q '^READY ' "$out"; then
    kill -TERM "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    cat "$out" >&2
    die "$name: could not open $idle_connections idle WebSockets (see above)"
  fi
  sleep 0.5 # the server's bookkeeping after the last echo
  after=$("$PYTHON" "$here/proctree.py" rss "${server_pid[$name]}")
  kill -TERM "$cpid"
  wait "$cpid" || rc=$?
  [ "$rc" = 0 ] || { cat "$out" >&2; die "$name: a held WebSocket failed (see above)"; }
  negotiated=$(sed -n 's/^negotiated: //p' "$out")
  echo "$name $deflate $idle_connections $before $after ${negotiated:--}" >>"$tmp/ws-idle.txt"
  awk -v n="$name" -v d="$deflate" -v N="$idle_connections" -v b="$before" -v a="$after" -v neg="${negotiated:--}" \
    'BEGIN { printf "  %-13s deflate %-3s RSS %7d KiB -> %7d KiB: %7.2f KiB per WebSocket  (%s)\n", n, d, b, a, (a - b) / N, neg }'
}

ws_idle_table() {
  echo
  printf '  %-13s %-8s %12s %12s %14s   %s\n' server deflate "RSS before" "RSS after" "per WebSocket" negotiated
  awk '{ neg = $6; for (i = 7; i <= NF; i++) neg = neg " " $i
         printf "  %-13s %-8s %8d KiB %8d KiB %10.2f KiB   %s\n", $1, $2, $4, $5, ($5 - $4) / $3, neg
         per[$1, $2] = ($5 - $4) / $3; names[$1] = 1 }
       END { for (d = 0; d < 2; d++) { dd = d ? "on" : "off"
               if (!(("uvicorn", dd) in per) || per["uvicorn", dd] <= 0) continue
               for (k in names) if (k != "uvicorn" && ((k, dd) in per))
                 printf "  %s/uvicorn memory per idle WebSocket, deflate %s: %.2f  (below 1: %s uses less)\n", k, dd, per[k, dd] / per["uvicorn", dd], k } }' \
    "$tmp/ws-idle.txt"
  echo
}

# Instructions per message, as the callgrind mode counts them per request: server $1 started
# afresh under callgrind, sent exactly $4 messages of $2 bytes over $3 connections, stopped
# gracefully; round $5. Readiness costs no work that varies: the probe is retried only while
# the port refuses connections, and once one is accepted it waits as long as start-up takes.
ws_callgrind_run() {
  local kind=$1 size=$2 conns=$3 messages=$4 round=$5 name=$1-$2-$3 dir pid rc deadline
  dir=$tmp/callgrind/$name-r$round-$messages
  mkdir -p "$dir"  # callgrind opens its output file at start-up: the directory must exist
  # asgid's hung-worker timeout would kill a worker 50 times slower than usual (see callgrind_run).
  ASGID_TIMEOUT=1h launch_ws "$kind" $((conns + 100)) \
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p"
  pid=${server_pid[$kind]}
  deadline=$((SECONDS + CG_START_S))
  while :; do
    rc=0
    "$WS_LOAD" --port "${server_port[$kind]}" --messages 1 --size "$size" --type "$ws_type" \
      "${ws_deflate[@]}" --timeout "$CG_START_S" --time-limit $((2 * CG_START_S)) >"$dir/probe.txt" 2>&1 || rc=$?
    [ "$rc" = 0 ] && break
    if ! grep -q 'connection refused' "$dir/probe.txt" || [ "$SECONDS" -ge "$deadline" ] ||
       [ -z "$(proc_state "$pid")" ] || [ "$(proc_state "$pid")" = Z ]; then
      cat "$dir/probe.txt" >&2
      tail -n 20 "${server_log[$kind]}" >&2 || true
      die "$name under callgrind: not ready (see above)"
    fi
    sleep 0.2
  done
  if ! taskset -c "$CLIENT_CPU" "$WS_LOAD" --port "${server_port[$kind]}" --connections "$conns" \
       --messages $((messages / conns)) --size "$size" --type "$ws_type" "${ws_deflate[@]}" --timeout 60 \
       --time-limit 3600 >"$dir/client.txt" 2>&1; then
    cat "$dir/client.txt" >&2
    echo "--- $name log (${server_log[$kind]}):" >&2
    tail -n 20 "${server_log[$kind]}" >&2 || true
    die "$name under callgrind: ws_load failed (see above)"
  fi
  stop_server "$kind" "$CG_STOP_S"
  mv "${server_log[$kind]}" "$dir/server.log"
  callgrind_record "$name" "$round" "$messages" "$dir" "$pid"
  awk '/^RESULT / { sub(/.*seconds=/, ""); printf "%s", $1 }' "$dir/client.txt" >"$dir/seconds"
}

ws_callgrind_mode() {
  local kind size conns round name messages n1=${cg_requests% *} n2=${cg_requests#* }
  echo "== websocket --callgrind: instructions per echoed message under valgrind --tool=callgrind: each"
  echo "   server started afresh for $n1 and for $n2 $ws_type messages${ws_deflate:+ (deflated)}; (Ir($n2) - Ir($n1)) / $((n2 - n1)); $rounds round(s)"
  echo "   servers: $*"
  : >"$tmp/callgrind.txt"
  for size in $ws_sizes; do
    for conns in $ws_conns; do
      echo
      echo "-- $size-byte $ws_type messages over $conns connection(s)"
      : >"$tmp/callgrind-rounds.txt"
      for ((round = 1; round <= rounds; round++)); do
        for kind in "$@"; do
          name=$kind-$size-$conns
          for messages in $n1 $n2; do ws_callgrind_run "$kind" "$size" "$conns" "$messages" "$round"; done
          callgrind_per_request "$name" "$round" | tee -a "$tmp/callgrind-rounds.txt" |
            awk -v t1="$(cat "$tmp/callgrind/$name-r$round-$n1/seconds")" \
                -v t2="$(cat "$tmp/callgrind/$name-r$round-$n2/seconds")" "$CG_AWK_LIB"'
              { parts = ""
                for (i = 4; i <= NF; i++) { split($i, kv, "="); parts = parts (i > 4 ? ", " : "") kv[1] " " group(kv[2]) }
                printf "  round %d %-24s %12s Ir/message (%s); the messages took %s s and %s s\n", $2, $1, group($3), parts, t1, t2 }'
        done
      done
      echo
      echo "median of $rounds round(s), $size-byte messages over $conns connection(s):"
      callgrind_table "uvicorn-$size-$conns" message
    done
  done
  echo
  if [ -n "$cg_keep" ]; then
    echo "profiles of the $n2-message runs (of the last round) kept as $cg_keep/callgrind.out.SERVER-SIZE-CONNECTIONS.ROLE"
  fi
}

websocket_mode() {
  local kind size conns round deflate rc
  local -a kinds=()
  # Until asgid speaks WebSocket its cases are skipped, saying why: asgid that hands the
  # handshake to the echo app as a plain HTTP request (the app answers 426) does not yet.
  # Any other answer but 101, then or later, fails the run.
  for kind in $only; do
    [[ "$kind" == asgid-* ]] && [ -z "${ws_skip[$kind]:-}" ] || continue
    launch_ws "$kind" 100
    rc=0
    ws_wait_ready "$kind" 64 plain-http-ok || rc=$?
    stop_server "$kind"
    [ "$rc" = 0 ] || ws_skip[$kind]="$ASGID_BIN does not speak WebSocket yet: it passed the handshake to the app as a plain HTTP request (the echo app answered 426)"
  done
  for kind in $only; do
    if [ -n "${ws_skip[$kind]:-}" ]; then
      echo "skipped:  $kind: ${ws_skip[$kind]}"
    else
      kinds+=("$kind")
    fi
  done
  [ "${#kinds[@]}" -gt 0 ] || die "no server left to measure (see the skipped ones above)"
  if [ -n "$ws_callgrind" ]; then
    ws_callgrind_mode "${kinds[@]}"
    return
  fi
  echo
  echo "== websocket: echo round trips, $ws_type messages of ${ws_sizes// /, } bytes over ${ws_conns// /, } connection(s);"
  if [ "${#ws_deflate[@]}" -gt 0 ]; then echo "   permessage-deflate offered, and required of every server;"; fi
  echo "   ws_load ${WS_WARMUP_S}s warm-up + ${duration}s measured, $rounds round(s), every server started afresh for each"
  echo "   servers: ${kinds[*]}"
  : >"$tmp/ws.txt"
  : >"$tmp/ws-medians.txt"
  for size in $ws_sizes; do
    for conns in $ws_conns; do
      echo
      echo "-- $size-byte $ws_type messages, $conns connection(s)"
      for ((round = 1; round <= rounds; round++)); do
        for kind in "${kinds[@]}"; do
          start_ws "$kind" $((conns + 100)) "$size"
          measure_ws "$kind" "$size" "$conns" "$round"
          stop_server "$kind"
        done
      done
      echo
      echo "median of $rounds round(s), $size-byte messages, $conns connection(s):"
      ws_table "$size" "$conns" "${kinds[@]}"
    done
  done
  echo
  echo "summary (medians; ratios to uvicorn: msg/s above 1 echoes more, CPU/msg below 1 spends less):"
  printf '  %-13s %7s %6s %9s %9s %11s %12s %14s\n' server bytes conns "msg/s" "p99 (ms)" "CPU us/msg" "msg/s ratio" "CPU/msg ratio"
  awk '{ printf "  %-13s %7s %6s %9.0f %9.3f %11.2f %12s %14s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$tmp/ws-medians.txt"
  echo

  [ "$py_idle" = 1 ] || return 0
  idle_prepare
  : >"$tmp/ws-idle.txt"
  echo "== websocket idle: $idle_connections WebSockets per server, one $WS_IDLE_SIZE-byte echo each, then held open;"
  echo "   without deflate, then offering permessage-deflate as Chromium does (client_max_window_bits)"
  for kind in "${kinds[@]}"; do
    for deflate in off on; do
      start_ws "$kind" "$idle_maxconn" "$WS_IDLE_SIZE"
      ws_idle_one "$kind" "$deflate"
      stop_server "$kind"
    done
  done
  ws_idle_table
}

# ------------------------------------------------------------------ main
print_environment
case "$mode" in
  throughput) throughput ;;
  idle) idle ;;
  workers) workers_scaling ;;
  all) throughput; idle; workers_scaling ;;
  python) python_mode ;;
  callgrind) callgrind_mode ;;
  websocket) websocket_mode ;;
esac
