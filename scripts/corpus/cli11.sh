#!/usr/bin/env bash
# CLI11: header-only C++11 command line parser, heavy on templates (type traits, SFINAE, lexical
# casts) and constructors/conversions in class templates; Catch2 tests, -pedantic -Wshadow
# -Wsign-conversion.
NAME=cli11
SRCPKG=cli11
VERSION=2.1.2+ds-1
DEPS=(catch2)
source "$(dirname "$(readlink -f "$0")")/_common.sh"

do_configure() {
  # Not CLI11_WARNINGS_AS_ERRORS: gcc 12's -Wmaybe-uninitialized fails the pristine tests at -O3.
  # Examples off: 40 more programs to build twice on 2 cores for the same headers.
  run_configure -DCLI11_BUILD_TESTS=ON -DCLI11_BUILD_EXAMPLES=OFF -DCLI11_BUILD_DOCS=OFF
}

corpus_main "$@"
