// Exceptions: a throw hook that tells open scopes an exception is in flight, and what it is.
//
// Every C++ throw, including those inside libstdc++ (std::vector::at), goes through
// __cxa_throw; defining it here interposes the C++ runtime's, which we then call. The hook
// bumps the thread's throw_epoch, so a scope's destructor needs one compare to know that no
// throw happened while it was open, and keeps the thrown object so a broken scope can
// report the exception's type and what().
#include "Internal.h"
#include "scopeprof/LogFormat.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <exception>
#include <cstdlib>
#include <cstring>
#include <typeinfo>

namespace {

struct InFlight {
  std::type_info *Type;
  void *Object;
  uint32_t ReportedEpoch; ///< the epoch whose exception record was written
};
__thread InFlight LastThrow __attribute__((tls_model("initial-exec")));

using CxaThrow = void (*)(void *, std::type_info *, void (*)(void *));
using CxaRethrow = void (*)();

} // namespace

extern "C" {

void __cxa_throw(void *Object, std::type_info *Type, void (*Destructor)(void *)) {
  static auto Real = reinterpret_cast<CxaThrow>(dlsym(RTLD_NEXT, "__cxa_throw"));
  LastThrow.Type = Type;
  LastThrow.Object = Object;
  ++scopeprof_tls.throw_epoch;
  Real(Object, Type, Destructor);
  __builtin_unreachable();
}

void __cxa_rethrow() {
  static auto Real = reinterpret_cast<CxaRethrow>(dlsym(RTLD_NEXT, "__cxa_rethrow"));
  // The rethrown exception is the one currently caught. libstdc++'s exception_ptr is a
  // single pointer to the thrown object, which stays alive while it is rethrown.
  LastThrow.Type = abi::__cxa_current_exception_type();
  LastThrow.Object = nullptr;
#ifdef __GLIBCXX__
  std::exception_ptr Current = std::current_exception();
  static_assert(sizeof(Current) == sizeof(void *), "libstdc++ exception_ptr layout");
  std::memcpy(&LastThrow.Object, &Current, sizeof(void *));
#endif
  ++scopeprof_tls.throw_epoch;
  Real();
  __builtin_unreachable();
}

} // extern "C"

#ifdef __GLIBCXX__
// std::rethrow_exception (and so std::future::get() and every other exception carried across
// threads) raises the stored exception without __cxa_throw or __cxa_rethrow.
[[noreturn]] void std::rethrow_exception(std::exception_ptr Stored) {
  using Rethrow = void (*)(std::exception_ptr);
  static auto Real = reinterpret_cast<Rethrow>(
      dlsym(RTLD_NEXT, "_ZSt17rethrow_exceptionNSt15__exception_ptr13exception_ptrE"));
  LastThrow.Type = const_cast<std::type_info *>(Stored.__cxa_exception_type());
  std::memcpy(&LastThrow.Object, &Stored, sizeof(void *));
  ++scopeprof_tls.throw_epoch;
  Real(std::move(Stored));
  __builtin_unreachable();
}
#endif

extern "C" {

void scopeprof_exit_unwound(scopeprof_site *Site, uint64_t Start, uint64_t End, uint32_t Depth,
                            uint64_t Flags) {
  scopeprof::runtime::recordUnwound(Site, Start, End, Depth, Flags);
}

} // extern "C"

namespace scopeprof::runtime {

void recordUnwound(scopeprof_site *Site, uint64_t Start, uint64_t End, uint32_t Depth,
                   uint64_t Flags) {
  uint64_t Meta = scopeprof_meta(Site->index, Depth) | Flags;
  // A throw happened while the scope was open; it may have been caught inside.
  if (std::uncaught_exceptions() == 0) {
    scopeprof_append(Meta, Start, End);
    return;
  }
  if (LastThrow.ReportedEpoch != scopeprof_tls.throw_epoch) {
    LastThrow.ReportedEpoch = scopeprof_tls.throw_epoch;
    char Payload[1024];
    size_t Len = 0;
    // Room: the bytes this string may take, its NUL included.
    auto Put = [&](const char *S, size_t Room) {
      size_t Last = Len + Room - 1;
      while (*S && Len < Last)
        Payload[Len++] = *S++;
      Payload[Len++] = '\0';
    };
    char *Demangled = nullptr;
    const char *Message = "";
    if (LastThrow.Type) {
      int Status = 0;
      Demangled = abi::__cxa_demangle(LastThrow.Type->name(), nullptr, nullptr, &Status);
#ifdef __GLIBCXX__
      void *Adjusted = LastThrow.Object;
      // The same test a `catch (const std::exception &)` makes.
      if (Adjusted && typeid(std::exception).__do_catch(LastThrow.Type, &Adjusted, 1))
        Message = static_cast<std::exception *>(Adjusted)->what();
#endif
    }
    Put(Demangled ? Demangled : LastThrow.Type ? LastThrow.Type->name() : "unknown",
        sizeof(Payload) / 2);
    Put(Message, sizeof(Payload) - Len);
    std::free(Demangled);
    appendExtension(format::ExtException, Payload, static_cast<uint32_t>(Len));
  }
  scopeprof_append(Meta | SCOPEPROF_FLAG_BROKEN, Start, End);
}

} // namespace scopeprof::runtime
