#!/usr/bin/env bash
# Sets up this machine, builds asgid and starts it on 127.0.0.1:8000 serving the bundled demo
# app (examples/native/hello.c) with conf/asgid.ini. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "asgid: serving the demo app on http://127.0.0.1:8000/ (Ctrl-C stops it)"
exec build/asgid -c conf/asgid.ini --app build/examples/hello.so --bind 127.0.0.1:8000 "$@"
