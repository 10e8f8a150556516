// In a template, an element reached through a pointer (`Mem[Size]`, `*Mem`) and its address
// (`&Mem[Size]`, `&*Mem`) count as builtin, though a class overloading unary & would make it
// a call: a container's push stays trivial. The address of any other object of dependent type
// may call anything.
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
};

int use() {
  int Values[4];
  Array<int> A{Values, 0};
  int X = 0;
  return *A.push() + *A.first() + A.front() + *A.address(X);
}

// CHECK: trivial: Array<T>::push() [method,template]
// CHECK: trivial: Array<T>::first() [method,template]
// CHECK: trivial: Array<T>::front() [method,template]
// CHECK: instrumented: Array<T>::address(T &) [method,template] {{.*}}(not trivial: an expression of dependent type (may call anything) at trivial-element-address.cpp:16)
