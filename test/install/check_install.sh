#!/usr/bin/env bash
# Builds a program against the installed runtime twice, with find_package(scopeprof) and with
# pkg-config, runs both, and checks their logs. usage: check_install.sh PREFIX WORKDIR
set -euo pipefail
PREFIX=$1 WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"

cmake -S "$HERE/consumer" -B "$WORK/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
SCOPEPROF_OUT="$WORK/out-cmake" "$WORK/cmake/consumer"

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -std=c++17 "$HERE/consumer/main.cpp" -o "$WORK/pc-consumer" $(pkg-config --cflags --libs scopeprof)
SCOPEPROF_OUT="$WORK/out-pkgconfig" "$WORK/pc-consumer"

for out in out-cmake out-pkgconfig; do
  calls=$("$PREFIX/bin/scopeprof" dump "$WORK/$out" | grep -c 'call depth=0 work(int)')
  if [[ $calls != 10 ]]; then
    echo "FAIL: $out has $calls calls of work(int), expected 10" >&2
    exit 1
  fi
done
echo "PASS: find_package and pkg-config consumers record 10 calls each"
