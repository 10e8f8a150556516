#!/usr/bin/env bash
# Builds programs against the installed runtime twice, with find_package(scopeprof) and with
# pkg-config, runs them, and checks their logs: a program (scopeprof), a cases file
# (scopeprof-cases) and a GoogleTest test (scopeprof-gtest). usage: check_install.sh PREFIX WORKDIR
set -euo pipefail
PREFIX=$1 WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"

cmake -S "$HERE/consumer" -B "$WORK/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
SCOPEPROF_OUT="$WORK/out-cmake" "$WORK/cmake/consumer"
SCOPEPROF_OUT="$WORK/cases-cmake" "$WORK/cmake/consumer-cases" --repeat 2 >/dev/null
SCOPEPROF_OUT="$WORK/gtest-cmake" "$WORK/cmake/consumer-gtest" >/dev/null

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -std=c++17 "$HERE/consumer/main.cpp" -o "$WORK/pc-consumer" $(pkg-config --cflags --libs scopeprof)
SCOPEPROF_OUT="$WORK/out-pkgconfig" "$WORK/pc-consumer"
# shellcheck disable=SC2046
g++ -std=c++17 "$HERE/consumer/cases.cpp" -o "$WORK/pc-cases" $(pkg-config --cflags --libs scopeprof-cases)
SCOPEPROF_OUT="$WORK/cases-pkgconfig" "$WORK/pc-cases" --repeat 2 >/dev/null
# shellcheck disable=SC2046
g++ -std=c++17 "$HERE/consumer/gtest.cpp" -o "$WORK/pc-gtest" \
  $(pkg-config --cflags --libs scopeprof-gtest gtest_main)
SCOPEPROF_OUT="$WORK/gtest-pkgconfig" "$WORK/pc-gtest" >/dev/null

count() { "$PREFIX/bin/scopeprof" dump "$WORK/$1" | grep -c "$2" || true; }
for out in out-cmake out-pkgconfig; do
  calls=$(count "$out" 'call depth=0 work(int)')
  if [[ $calls != 10 ]]; then
    echo "FAIL: $out has $calls calls of work(int), expected 10" >&2
    exit 1
  fi
done
for out in cases-cmake:2 cases-pkgconfig:2 gtest-cmake:1 gtest-pkgconfig:1; do
  cases=$(count "${out%:*}" 'case name="Smoke::work"')
  if [[ $cases != "${out#*:}" ]]; then
    echo "FAIL: ${out%:*} has $cases runs of case Smoke::work, expected ${out#*:}" >&2
    exit 1
  fi
done
echo "PASS: find_package and pkg-config consumers record 10 calls each, and their cases"
