// A short body that calls expensive library code is not trivial: allocating a std::string,
// building a std::regex, std::sort, printf, malloc, new. Accessors inlined from the standard
// library headers are, and so are the <ctype.h> classifiers (pure, no pointer: a table lookup),
// while strlen and strncmp (pure, but they walk memory) are not.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>
std::string greeting() { return std::string("hello, world and more than fifteen"); }
bool matches(const std::string &S) { return std::regex_match(S, std::regex("a+b")); }
void sortAll(std::vector<int> &V) { std::sort(V.begin(), V.end()); }
void say(int V) { std::printf("%d\n", V); }
void *grab(size_t N) { return std::malloc(N); }
int *make() { return new int(1); }
size_t length(const std::string &S) { return S.size(); }
int at(const std::vector<int> &V, size_t I) { return V[I]; }
bool nameStart(unsigned char C) { return std::isalpha(C) || C == '_'; }
int lower(int C) { return std::tolower(C); }
bool blank(char C) { return isspace(static_cast<unsigned char>(C)) != 0; }
size_t measure(const char *S) { return std::strlen(S); }
bool same(const char *A, const char *B) { return std::strncmp(A, B, 4) == 0; }
// CHECK: {{^}}std::string greeting() { SCOPEPROF_FN(
// CHECK: {{^}}bool matches(const std::string &S) { SCOPEPROF_FN(
// CHECK: {{^}}void sortAll(std::vector<int> &V) { SCOPEPROF_FN(
// CHECK: {{^}}void say(int V) { SCOPEPROF_FN(
// CHECK: {{^}}void *grab(size_t N) { SCOPEPROF_FN(
// CHECK: {{^}}int *make() { SCOPEPROF_FN(
// CHECK: {{^}}size_t length(const std::string &S) { return
// CHECK: {{^}}int at(const std::vector<int> &V, size_t I) { return
// CHECK: {{^}}bool nameStart(unsigned char C) { return
// CHECK: {{^}}int lower(int C) { return
// CHECK: {{^}}bool blank(char C) { return
// CHECK: {{^}}size_t measure(const char *S) { SCOPEPROF_FN(
// CHECK: {{^}}bool same(const char *A, const char *B) { SCOPEPROF_FN(
// EXPLAIN: instrumented: greeting() [free] {{.*}}(not trivial:
// EXPLAIN: instrumented: matches(const std::string &) [free] {{.*}}(not trivial:
// EXPLAIN: instrumented: sortAll(std::vector<int> &) [free] {{.*}}(not trivial:
// EXPLAIN: instrumented: say(int) [free] {{.*}}(not trivial: calls 'printf' (a library builtin)
// EXPLAIN: instrumented: grab(size_t) [free] {{.*}}(not trivial: calls 'malloc' (a library builtin)
// EXPLAIN: instrumented: make() [free] {{.*}}(not trivial: calls 'operator new' (no body visible)
// EXPLAIN: trivial: length(const std::string &) [free]
// EXPLAIN: trivial: at(const std::vector<int> &, size_t) [free]
// EXPLAIN: trivial: nameStart(unsigned char) [free]
// EXPLAIN: trivial: lower(int) [free]
// EXPLAIN: trivial: blank(char) [free]
// EXPLAIN: instrumented: measure(const char *) [free] {{.*}}(not trivial: calls 'strlen' (a library builtin)
// EXPLAIN: instrumented: same(const char *, const char *) [free] {{.*}}(not trivial: calls 'strncmp' (a library builtin)
