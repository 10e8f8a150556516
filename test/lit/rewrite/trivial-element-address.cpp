// In a template, an element reached through a pointer (`Mem[Size]`, `*Mem`) and its address
// (`&Mem[Size]`, `&*Mem`) count as builtin, though a class overloading unary & would make it
// a call: a container's push stays trivial. So is a cast of a pointer to a pointer of dependent
// type (a pool's `static_cast<Item *>(Mem)`). The address of any other object of dependent type
// may call anything, and so may a cast of one: judged so where nothing instantiates them, and
// by the instantiations where something does (Array<int>'s are builtin operations).
// RUN: %scopeprof-rewrite --explain %s -- -std=c++17 2>/dev/null | FileCheck %s
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.cpp
// RUN: %scopeprof-rewrite --in-place %t/in.cpp -- -std=c++17 2>/dev/null
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t/in.cpp

template <typename T> struct Array {
  T *Mem;
  int Size;
  T *push() { T *Slot = &Mem[Size]; ++Size; return Slot; }
  T *first() { return &*Mem; }
  T &front() { return *Mem; }
  T *address(T &Value) { return &Value; }
  T *slot(void *Raw) { return static_cast<T *>(Raw); }
  int number(const T &Value) { return static_cast<int>(Value); }
};

int use() {
  int Values[4];
  Array<int> A{Values, 0};
  int X = 0;
  return *A.push() + *A.first() + A.front() + *A.slot(Values) + A.number(X);
}

// CHECK: trivial: Array<T>::push() [method,template]
// CHECK: trivial: Array<T>::first() [method,template]
// CHECK: trivial: Array<T>::front() [method,template]
// CHECK: instrumented: Array<T>::address(T &) [method,template] {{.*}}(not trivial: an expression of dependent type (may call anything) at trivial-element-address.cpp:18; no instantiation of it seen)
// CHECK: trivial: Array<T>::slot(void *) [method,template]
// CHECK: trivial: Array<T>::number(const T &) [method,template] {{.*}}(trivial: 3 of 200 AST nodes inlined, judged by the instantiations of {{.*}}trivial-element-address.cpp)
