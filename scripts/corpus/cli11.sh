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
  # Examples are tests too (ctest runs them with arguments); docs need doxygen.
  run_configure -DCLI11_BUILD_TESTS=ON -DCLI11_BUILD_EXAMPLES=ON -DCLI11_BUILD_DOCS=OFF \
    -DCLI11_WARNINGS_AS_ERRORS=ON
}

corpus_main "$@"
