// The C library's memory, string and math routines and the allocator do work bounded by their
// arguments: a short straight-line body that calls them is trivial (malloc, new, strlen,
// strncmp, memcpy, sqrt), as are accessors inlined from the standard library headers and the
// <ctype.h> classifiers. I/O and code whose body is not visible may take any time or wait
// (printf, fwrite, write, pthread_mutex_lock), and so may std::sort's loops and std::regex:
// their callers keep a scope.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: FileCheck --input-file=%t/in.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s --check-prefix=EXPLAIN
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <regex>
#include <string>
#include <unistd.h>
#include <vector>
bool matches(const std::string &S) { return std::regex_match(S, std::regex("a+b")); }
void sortAll(std::vector<int> &V) { std::sort(V.begin(), V.end()); }
void say(int V) { std::printf("%d\n", V); }
void put(const char *S, FILE *F) { std::fwrite(S, 1, 4, F); }
long send(int Fd, const char *S) { return write(Fd, S, 4); }
void lock(pthread_mutex_t *M) { pthread_mutex_lock(M); }
void *grab(size_t N) { return std::malloc(N); }
void drop(void *P) { std::free(P); }
int *make() { return new int(1); }
void unmake(int *P) { delete P; }
size_t length(const std::string &S) { return S.size(); }
int at(const std::vector<int> &V, size_t I) { return V[I]; }
bool nameStart(unsigned char C) { return std::isalpha(C) || C == '_'; }
int lower(int C) { return std::tolower(C); }
bool blank(char C) { return isspace(static_cast<unsigned char>(C)) != 0; }
size_t measure(const char *S) { return std::strlen(S); }
bool same(const char *A, const char *B) { return std::strncmp(A, B, 4) == 0; }
void copy(char *To, const char *From, size_t N) { std::memcpy(To, From, N); }
const char *find(const char *S) { return std::strchr(S, '&'); }
double norm(double X, double Y) { return std::sqrt(X * X + Y * Y); }
// CHECK: {{^}}bool matches(const std::string &S) { SCOPEPROF_FN(
// CHECK: {{^}}void sortAll(std::vector<int> &V) { SCOPEPROF_FN(
// CHECK: {{^}}void say(int V) { SCOPEPROF_FN(
// CHECK: {{^}}void put(const char *S, FILE *F) { SCOPEPROF_FN(
// CHECK: {{^}}long send(int Fd, const char *S) { SCOPEPROF_FN(
// CHECK: {{^}}void lock(pthread_mutex_t *M) { SCOPEPROF_FN(
// CHECK: {{^}}void *grab(size_t N) { return
// CHECK: {{^}}void drop(void *P) { std::free
// CHECK: {{^}}int *make() { return
// CHECK: {{^}}void unmake(int *P) { delete
// CHECK: {{^}}size_t length(const std::string &S) { return
// CHECK: {{^}}int at(const std::vector<int> &V, size_t I) { return
// CHECK: {{^}}bool nameStart(unsigned char C) { return
// CHECK: {{^}}int lower(int C) { return
// CHECK: {{^}}bool blank(char C) { return
// CHECK: {{^}}size_t measure(const char *S) { return
// CHECK: {{^}}bool same(const char *A, const char *B) { return
// CHECK: {{^}}void copy(char *To, const char *From, size_t N) { std::memcpy
// CHECK: {{^}}const char *find(const char *S) { return
// CHECK: {{^}}double norm(double X, double Y) { return
// EXPLAIN: instrumented: matches(const std::string &) [free] {{.*}}(not trivial:
// EXPLAIN: instrumented: sortAll(std::vector<int> &) [free] {{.*}}(not trivial:
// EXPLAIN: instrumented: say(int) [free] {{.*}}(not trivial: calls 'printf' (a library builtin)
// EXPLAIN: instrumented: put(const char *, FILE *) [free] {{.*}}(not trivial: calls 'fwrite' (a library builtin)
// EXPLAIN: instrumented: send(int, const char *) [free] {{.*}}(not trivial: calls 'write' (no body visible)
// EXPLAIN: instrumented: lock(pthread_mutex_t *) [free] {{.*}}(not trivial: calls 'pthread_mutex_lock' (no body visible)
// EXPLAIN: trivial: grab(size_t) [free]
// EXPLAIN: trivial: drop(void *) [free]
// EXPLAIN: trivial: make() [free]
// EXPLAIN: trivial: unmake(int *) [free]
// EXPLAIN: trivial: length(const std::string &) [free]
// EXPLAIN: trivial: at(const std::vector<int> &, size_t) [free]
// EXPLAIN: trivial: nameStart(unsigned char) [free]
// EXPLAIN: trivial: lower(int) [free]
// EXPLAIN: trivial: blank(char) [free]
// EXPLAIN: trivial: measure(const char *) [free]
// EXPLAIN: trivial: same(const char *, const char *) [free]
// EXPLAIN: trivial: copy(char *, const char *, size_t) [free]
// EXPLAIN: trivial: find(const char *) [free]
// EXPLAIN: trivial: norm(double, double) [free]
