// Fuzzes `scopeprof load` on one log file: the reader's framing and parsing, the call-tree
// rebuild and the inserts. Frame checksums are fixed up first, or nearly every mutation would
// stop at a CRC mismatch and the parsers behind it would never be reached.
#include "Loader.h"
#include "Schema.h"

#include "scopeprof/LogFormat.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace fmt = scopeprof::format;

namespace {

void fixChecksums(std::string &File) {
  size_t Offset = fmt::FilePreambleSize;
  while (Offset + fmt::FrameHeaderSize <= File.size()) {
    uint32_t Size;
    std::memcpy(&Size, &File[Offset + 8], 4);
    if (Size > File.size() - Offset - fmt::FrameHeaderSize)
      break;
    uint32_t Crc = fmt::crc32c(&File[Offset + fmt::FrameHeaderSize], Size);
    std::memcpy(&File[Offset + 12], &Crc, 4);
    Offset += fmt::FrameHeaderSize + Size;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  static const std::string Dir = [] {
    char Template[] = "/tmp/scopeprof-fuzz-XXXXXX";
    return std::string(mkdtemp(Template)) + "/";
  }();
  std::string File(reinterpret_cast<const char *>(Data), Size);
  fixChecksums(File);
  std::string Path = Dir + "1-1.splog";
  FILE *F = std::fopen(Path.c_str(), "wb");
  std::fwrite(File.data(), 1, File.size(), F);
  std::fclose(F);
  auto Db = scopeprof::db::openForLoad(":memory:");
  scopeprof::db::loadRuns(*Db, {Dir}, {});
  // Loading again must add nothing and must not crash either.
  scopeprof::db::loadRuns(*Db, {Dir}, {});
  return 0;
}
