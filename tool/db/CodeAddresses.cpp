// Code addresses to instrumented functions (CodeAddresses.h). Each instrumented function holds
// a static `scopeprof_site_` (scope.h's SCOPEPROF_FN): its DWARF variable is a child of the
// function's DIE, and the static's bytes in the file hold the site's stable id. So a file's
// debug information maps function DIEs to sites exactly, templates' instantiations and C
// functions included, with no name matching. An address then goes to the innermost function
// there, through inlined calls, that is instrumented or is scopeprof's own code.
#include "CodeAddresses.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <set>
#include <string_view>
#include <unordered_map>

namespace scopeprof::db {
namespace {

constexpr std::string_view SiteVariable = "scopeprof_site_";

bool startsWith(std::string_view S, std::string_view Prefix) { return S.substr(0, Prefix.size()) == Prefix; }
bool endsWith(std::string_view S, std::string_view Suffix) {
  return S.size() >= Suffix.size() && S.substr(S.size() - Suffix.size()) == Suffix;
}

/// The DIE a concrete or inlined instance stands for: its abstract origin, which owns the
/// function's static variables.
Dwarf_Off originOf(Dwarf_Die Die) {
  Dwarf_Attribute A;
  for (int Hops = 0; Hops < 8 && dwarf_attr(&Die, DW_AT_abstract_origin, &A); ++Hops) {
    Dwarf_Die Origin;
    if (!dwarf_formref_die(&A, &Origin))
      break;
    Die = Origin;
  }
  return dwarf_dieoffset(&Die);
}

/// scope.h's inline scope code, or the runtime's functions (linked statically, or inlined).
bool isMeasurement(Dwarf_Die *Die) {
  const char *Name = dwarf_diename(Die);
  if (Name && startsWith(Name, "scopeprof_"))
    return true;
  Dwarf_Attribute A;
  const char *Linkage = dwarf_formstring(dwarf_attr_integrate(Die, DW_AT_linkage_name, &A));
  if (Linkage && (startsWith(Linkage, "_ZN9scopeprof") || startsWith(Linkage, "_ZNK9scopeprof")))
    return true;
  const char *File = dwarf_decl_file(Die);
  return File && endsWith(File, "/scopeprof/scope.h");
}

bool isCodeScope(int Tag) {
  return Tag == DW_TAG_subprogram || Tag == DW_TAG_inlined_subroutine ||
         Tag == DW_TAG_lexical_block || Tag == DW_TAG_try_block || Tag == DW_TAG_catch_block;
}

} // namespace

struct CodeAddresses::File {
  int Fd = -1;
  Elf *E = nullptr;
  Dwarf *D = nullptr;
  /// The runtime library: every address in it is measurement. Still read: unwinding goes
  /// through its frames (its malloc calls the program's).
  bool Runtime = false;
  struct Load {
    uint64_t Offset, Vaddr;
    bool Executable;
  };
  std::vector<Load> Loads;
  struct Range {
    Dwarf_Addr Low, High;
    Dwarf_Die Function;
  };
  std::vector<Range> Functions;                      ///< concrete functions' code, by Low
  std::unordered_map<Dwarf_Off, uint64_t> SiteByDie; ///< origin DIE offset -> stable site id
  std::unordered_map<uint64_t, CodeAt> Cache;        ///< by file address

  ~File() {
    if (D)
      dwarf_end(D);
    if (E)
      elf_end(E);
    if (Fd >= 0)
      close(Fd);
  }

  /// The stable id in the site static at \p Address (scopeprof_site: u32 state, u32 index, u64 id).
  bool readSiteId(uint64_t Address, uint64_t &Id) {
    Elf_Scn *Scn = nullptr;
    while ((Scn = elf_nextscn(E, Scn))) {
      GElf_Shdr Sh;
      if (!gelf_getshdr(Scn, &Sh) || Sh.sh_type != SHT_PROGBITS || !(Sh.sh_flags & SHF_ALLOC) ||
          Address < Sh.sh_addr || Address + 16 > Sh.sh_addr + Sh.sh_size)
        continue;
      Elf_Data *Data = elf_getdata(Scn, nullptr);
      if (!Data || !Data->d_buf || Address + 16 - Sh.sh_addr > Data->d_size)
        return false;
      std::memcpy(&Id, static_cast<const char *>(Data->d_buf) + (Address + 8 - Sh.sh_addr), 8);
      return true;
    }
    return false;
  }

  void noteSite(Dwarf_Die *Function, Dwarf_Die *Variable) {
    Dwarf_Attribute A;
    Dwarf_Op *Ops;
    size_t N;
    if (!dwarf_attr_integrate(Variable, DW_AT_location, &A) || dwarf_getlocation(&A, &Ops, &N) != 0 ||
        N != 1)
      return;
    // gcc writes the static's address; clang's DWARF 5 an index into the unit's address table.
    Dwarf_Addr Address;
    Dwarf_Attribute Indexed;
    if (Ops[0].atom == DW_OP_addr)
      Address = Ops[0].number;
    else if (!((Ops[0].atom == DW_OP_addrx || Ops[0].atom == DW_OP_GNU_addr_index) &&
               dwarf_getlocation_attr(&A, Ops, &Indexed) == 0 && dwarf_formaddr(&Indexed, &Address) == 0))
      return;
    uint64_t Id;
    if (readSiteId(Address, Id))
      SiteByDie[originOf(*Function)] = Id;
  }

  /// Every DIE under \p Parent: site statics, and the code ranges of concrete functions.
  /// \p Function: the function whose body \p Parent is in (a block of it, or itself), if any.
  void index(Dwarf_Die *Parent, Dwarf_Die *Function) {
    Dwarf_Die Child;
    if (dwarf_child(Parent, &Child) != 0)
      return;
    do {
      int Tag = dwarf_tag(&Child);
      if (Tag == DW_TAG_variable) {
        const char *Name = dwarf_diename(&Child);
        if (Function && Name && Name == SiteVariable)
          noteSite(Function, &Child);
        continue;
      }
      if (Tag == DW_TAG_subprogram) {
        Dwarf_Addr Base, Low, High;
        for (ptrdiff_t At = 0; (At = dwarf_ranges(&Child, At, &Base, &Low, &High)) > 0;)
          Functions.push_back({Low, High, Child});
      }
      if (dwarf_haschildren(&Child))
        index(&Child, Tag == DW_TAG_subprogram ? &Child
                      : Tag == DW_TAG_lexical_block ? Function
                                                    : nullptr);
    } while (dwarf_siblingof(&Child, &Child) == 0);
  }

  bool open(const std::string &Path) {
    Fd = ::open(Path.c_str(), O_RDONLY | O_CLOEXEC);
    if (Fd < 0)
      return false;
    E = elf_begin(Fd, ELF_C_READ_MMAP, nullptr);
    if (!E || elf_kind(E) != ELF_K_ELF)
      return false;
    size_t Count = 0;
    elf_getphdrnum(E, &Count);
    for (size_t I = 0; I < Count; ++I) {
      GElf_Phdr Ph;
      if (gelf_getphdr(E, static_cast<int>(I), &Ph) && Ph.p_type == PT_LOAD)
        Loads.push_back({Ph.p_offset, Ph.p_vaddr, (Ph.p_flags & PF_X) != 0});
    }
    D = dwarf_begin_elf(E, DWARF_C_READ, nullptr);
    if (!D)
      return true; // readable, but only as a whole
    Dwarf_CU *Cu = nullptr;
    Dwarf_Die CuDie;
    uint8_t UnitType;
    while (dwarf_get_units(D, Cu, &Cu, nullptr, &UnitType, &CuDie, nullptr) == 0)
      if (UnitType == DW_UT_compile || UnitType == DW_UT_partial)
        index(&CuDie, nullptr);
    std::sort(Functions.begin(), Functions.end(),
              [](const Range &A, const Range &B) { return A.Low < B.Low; });
    return true;
  }

  /// What mapping \p M moved the file's addresses by. The loader maps an executable segment
  /// from its offset and at its address, both rounded down to a page; the segment's offset
  /// need not be page-aligned (lld packs segments), so the mapping's offset is matched rounded.
  bool bias(const logreader::Module &M, uint64_t &Bias) const {
    const auto Page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    for (const Load &L : Loads)
      if (L.Executable && (L.Offset & ~(Page - 1)) == M.Offset) {
        Bias = M.Start - (L.Vaddr & ~(Page - 1));
        return true;
      }
    return false;
  }

  /// The innermost instrumented or measurement function at \p Pc, through inlined calls.
  CodeAt resolve(Dwarf_Addr Pc) {
    auto After = std::upper_bound(Functions.begin(), Functions.end(), Pc,
                                  [](Dwarf_Addr A, const Range &R) { return A < R.Low; });
    const Range *Hit = nullptr;
    for (auto It = After; It != Functions.begin() && !Hit;) {
      --It;
      if (Pc < It->High)
        Hit = &*It;
      else if (After - It > 64)
        break; // functions do not nest: one far before cannot hold it
    }
    if (!Hit)
      return {};
    // The chain from the function down to the innermost inlined call holding the address.
    std::vector<Dwarf_Die> Chain{Hit->Function};
    Dwarf_Die Scope = Hit->Function;
    for (bool Deeper = true; Deeper;) {
      Deeper = false;
      Dwarf_Die Child;
      if (dwarf_child(&Scope, &Child) != 0)
        break;
      do {
        int Tag = dwarf_tag(&Child);
        if (isCodeScope(Tag) && Tag != DW_TAG_subprogram && dwarf_haspc(&Child, Pc) == 1) {
          if (Tag == DW_TAG_inlined_subroutine)
            Chain.push_back(Child);
          Scope = Child;
          Deeper = true;
          break;
        }
      } while (dwarf_siblingof(&Child, &Child) == 0);
    }
    for (auto It = Chain.rbegin(); It != Chain.rend(); ++It) {
      if (isMeasurement(&*It))
        return {CodeAt::Measurement, 0};
      auto Site = SiteByDie.find(originOf(*It));
      if (Site != SiteByDie.end())
        return {CodeAt::Function, Site->second};
    }
    return {};
  }
};

CodeAddresses::CodeAddresses() { elf_version(EV_CURRENT); }
CodeAddresses::~CodeAddresses() = default;

CodeAddresses::File &CodeAddresses::file(const logreader::Module &M, std::vector<std::string> &Notes) {
  std::string Key = fmt::format("{}\n{}\n{}", M.Path, M.MtimeNs, M.Size);
  auto &F = Files[Key];
  if (F)
    return *F;
  F = std::make_unique<File>();
  std::string Name = M.Path.substr(M.Path.rfind('/') + 1);
  F->Runtime = startsWith(Name, "libscopeprof");
  // The runtime's samples are the measurement's whatever its file says: nothing to note.
  auto Note = [&](std::string Text) {
    if (!F->Runtime)
      Notes.push_back(std::move(Text));
  };
  // Checked before it is opened: a file that is not the one that ran is not read at all.
  struct stat St;
  errno = 0;
  if (stat(M.Path.c_str(), &St) != 0 || !S_ISREG(St.st_mode)) {
    Note(fmt::format("cannot read '{}' ({}): its CPU samples are charged to the functions open "
                     "in their threads", M.Path, errno ? std::strerror(errno) : "not a file"));
  } else if (static_cast<uint64_t>(St.st_size) != M.Size ||
             static_cast<uint64_t>(St.st_mtim.tv_sec) * 1'000'000'000u +
                     static_cast<uint64_t>(St.st_mtim.tv_nsec) != M.MtimeNs) {
    Note(fmt::format("'{}' changed since the run: its CPU samples are charged to the functions "
                     "open in their threads", M.Path));
  } else if (!F->open(M.Path)) {
    Note(fmt::format("cannot read '{}' ({}): its CPU samples are charged to the functions open "
                     "in their threads", M.Path, errno ? std::strerror(errno) : "not an ELF file"));
    F->Loads.clear();
  } else if (!F->D && !startsWith(M.Path, "/usr/") && !startsWith(M.Path, "/lib")) {
    Note(fmt::format("'{}' has no debug information (build with -g): its CPU samples are charged "
                     "to the functions open in their threads", M.Path));
  }
  return *F;
}

CodeAt CodeAddresses::at(const logreader::Module &M, uint64_t Address,
                         std::vector<std::string> &Notes) {
  File &F = file(M, Notes);
  if (F.Runtime)
    return {CodeAt::Measurement, 0};
  uint64_t Bias;
  if (!F.D || !F.bias(M, Bias))
    return {};
  uint64_t FileAddr = Address - Bias;
  auto Cached = F.Cache.find(FileAddr);
  if (Cached != F.Cache.end())
    return Cached->second;
  return F.Cache[FileAddr] = F.resolve(FileAddr);
}

bool CodeAddresses::loadBias(const logreader::Module &M, uint64_t &Bias,
                             std::vector<std::string> &Notes) {
  return file(M, Notes).bias(M, Bias);
}

/// libdwfl's view of one process: its mapped files at their biases, and the sample being
/// unwound, whose stack copy is the only memory it reads.
struct SampleAttribution::Unwinder {
  Dwfl *D = nullptr;
  const logreader::CpuSample *Sample = nullptr;

  ~Unwinder() {
    if (D)
      dwfl_end(D);
  }

  static pid_t nextThread(Dwfl *, void *Arg, void **ThreadArg) {
    if (*ThreadArg)
      return 0;
    *ThreadArg = Arg;
    return 1;
  }
  static bool readMemory(Dwfl *, Dwarf_Addr Address, Dwarf_Word *Result, void *Arg) {
    const logreader::CpuSample &S = *static_cast<Unwinder *>(Arg)->Sample;
    if (Address < S.StackPointer || Address - S.StackPointer + sizeof(Dwarf_Word) > S.Stack.size())
      return false;
    std::memcpy(Result, S.Stack.data() + (Address - S.StackPointer), sizeof(Dwarf_Word));
    return true;
  }
  static bool initialRegisters(Dwfl_Thread *Thread, void *Arg) {
    const logreader::CpuSample &S = *static_cast<Unwinder *>(Arg)->Sample;
    // x86-64's DWARF registers: 6 the frame pointer, 7 the stack pointer, 16 the return address
    // column (the pc). The others are not saved with the sample: call frame information finds
    // a frame's caller from these.
    Dwarf_Word Registers[17] = {};
    Registers[6] = S.FramePointer;
    Registers[7] = S.StackPointer;
    Registers[16] = S.Address;
    return dwfl_thread_state_registers(Thread, 0, 17, Registers);
  }

  bool start(const std::vector<std::pair<const logreader::Module *, uint64_t>> &Files) {
    // No search for separate debug information (debuginfod could go to the network): the
    // files' own .eh_frame is what unwinding reads.
    static const Dwfl_Callbacks Callbacks = {
        dwfl_build_id_find_elf,
        [](Dwfl_Module *, void **, const char *, Dwarf_Addr, const char *, const char *, GElf_Word,
           char **) { return -1; },
        dwfl_offline_section_address, nullptr};
    static const Dwfl_Thread_Callbacks ThreadCallbacks = {nextThread, nullptr, readMemory,
                                                          initialRegisters, nullptr, nullptr};
    D = dwfl_begin(&Callbacks);
    if (!D)
      return false;
    dwfl_report_begin(D);
    for (const auto &[M, Bias] : Files)
      dwfl_report_elf(D, M->Path.c_str(), M->Path.c_str(), -1, Bias, true); // true: a bias
    dwfl_report_end(D, nullptr, nullptr);
    return dwfl_attach_state(D, nullptr, 1, &ThreadCallbacks, this);
  }
};

SampleAttribution::SampleAttribution(CodeAddresses &Code) : Code(Code) {}
SampleAttribution::~SampleAttribution() = default;

void SampleAttribution::addModule(const logreader::Module &M) {
  Modules.push_back(M);
  Unwind.reset();
}

const logreader::Module *SampleAttribution::moduleAt(uint64_t Address) const {
  for (auto It = Modules.rbegin(); Address && It != Modules.rend(); ++It)
    if (It->Start <= Address && Address < It->End)
      return &*It;
  return nullptr;
}

CodeAt SampleAttribution::charge(const logreader::CpuSample &S, std::vector<std::string> &Notes) {
  const logreader::Module *M = moduleAt(S.Address);
  CodeAt Here = M ? Code.at(*M, S.Address, Notes) : CodeAt{};
#if defined(__x86_64__)
  if (Here.What != CodeAt::Unknown || S.Stack.empty())
    return Here;
  if (!Unwind) {
    // Each file once, newest mapping first (a library unloaded and another mapped there).
    std::vector<std::pair<const logreader::Module *, uint64_t>> Files;
    std::set<std::string> Seen;
    for (auto It = Modules.rbegin(); It != Modules.rend(); ++It) {
      uint64_t Bias;
      if (Seen.insert(It->Path).second && Code.loadBias(*It, Bias, Notes))
        Files.push_back({&*It, Bias});
    }
    Unwind = std::make_unique<Unwinder>();
    if (!Unwind->start(Files))
      return Here;
  }
  if (!Unwind->D)
    return Here;
  struct Walk {
    SampleAttribution *Self;
    std::vector<std::string> *Notes;
    int Frames = 0;
    CodeAt Found;
  } W{this, &Notes, 0, {}};
  Unwind->Sample = &S;
  dwfl_getthread_frames(
      Unwind->D, 1,
      [](Dwfl_Frame *Frame, void *Arg) -> int {
        auto &W = *static_cast<Walk *>(Arg);
        Dwarf_Addr Pc;
        bool Activation;
        if (++W.Frames > 64 || !dwfl_frame_pc(Frame, &Pc, &Activation))
          return DWARF_CB_ABORT;
        if (W.Frames == 1)
          return DWARF_CB_OK; // the sample's own address, looked up already
        if (!Activation)
          --Pc; // a return address: the call is the instruction before it
        // Past scopeprof's frames: the program's malloc reached through the runtime's counting
        // one is the program's cost, not the measurement's.
        const logreader::Module *M = W.Self->moduleAt(Pc);
        CodeAt Caller = M ? W.Self->Code.at(*M, Pc, *W.Notes) : CodeAt{};
        if (Caller.What != CodeAt::Function)
          return DWARF_CB_OK;
        W.Found = Caller;
        return DWARF_CB_ABORT;
      },
      &W);
  Unwind->Sample = nullptr;
  return W.Found;
#else
  return Here; // the registers unwinding starts from are x86-64's
#endif
}

} // namespace scopeprof::db
