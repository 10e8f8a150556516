#!/usr/bin/env bash
# cJSON: small JSON parser in strict C89. Its own flags are -std=c89 -pedantic -Werror -Wconversion
# -Wmissing-prototypes -Wc++-compat and more, so every rewritten file must compile warning-free under
# them. Unity (a C test framework, in the tree) runs 19 test programs.
NAME=cjson
SRCPKG=cjson
VERSION=1.7.15-1+deb12u4
DEPS=()
source "$(dirname "$(readlink -f "$0")")/_common.sh"

do_configure() {
  run_configure -DENABLE_CJSON_TEST=ON -DENABLE_CJSON_UTILS=ON -DENABLE_CUSTOM_COMPILER_FLAGS=ON
}

corpus_main "$@"
