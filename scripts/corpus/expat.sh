#!/usr/bin/env bash
# Expat: XML parser in C99 with code generated at configure time (expat_config.h, in the build
# tree, decides what the sources compile) and one test source compiled twice: runtests.c as C
# and, through runtestspp.cpp, as C++ — the same functions parsed in two languages.
NAME=expat
SRCPKG=expat
VERSION=2.5.0-1+deb12u2
DEPS=()
source "$(dirname "$(readlink -f "$0")")/_common.sh"

do_configure() {
  # The CMake project is in expat/ of the source package.
  CMAKE_SRC=$SRC/expat run_configure -DEXPAT_BUILD_TESTS=ON -DEXPAT_BUILD_EXAMPLES=ON -DEXPAT_BUILD_DOCS=OFF \
    -DEXPAT_WARNINGS_AS_ERRORS=ON || return 1
  # Debian's security patches test `#if XML_DTD == 1`, as autotools defines it; CMake's template
  # defines it empty, which does not compile.
  sed -i 's/^#define XML_DTD$/#define XML_DTD 1/' "$BUILD/expat_config.h"
}

corpus_main "$@"
