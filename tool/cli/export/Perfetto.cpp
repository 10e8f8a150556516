// Perfetto's protobuf trace (ui.perfetto.dev, trace_processor): TrackEvent slices on a track
// per thread, under a track per process; a call's counters are its debug annotations.
//
// The few messages needed are written by hand, with the field numbers of Perfetto's
// protos/perfetto/trace (trace_packet.proto, track_event/*.proto, interned_data/): a varint
// and a length-delimited field are all it takes, which is less than generating and linking
// the protobuf library for the whole schema. test/db/perfetto_trace.proto declares the same
// subset, and the tests parse the output back with it.
#include "Export.h"

#include <iterator>
#include <set>
#include <unordered_set>

namespace scopeprof::cli::exporter {
namespace {

/// A protobuf message being written: fields appended in any order.
class Message {
public:
  Message &varint(int Field, uint64_t V) {
    tag(Field, 0);
    return raw(V);
  }
  Message &bytes(int Field, std::string_view V) {
    tag(Field, 2);
    raw(V.size());
    Data.append(V);
    return *this;
  }
  Message &message(int Field, const Message &M) { return bytes(Field, M.Data); }
  const std::string &data() const { return Data; }

private:
  void tag(int Field, int WireType) { raw(static_cast<uint64_t>(Field) << 3 | WireType); }
  Message &raw(uint64_t V) {
    for (; V >= 0x80; V >>= 7)
      Data += static_cast<char>(V | 0x80);
    Data += static_cast<char>(V);
    return *this;
  }
  std::string Data;
};

// Field numbers, from Perfetto's .proto files.
enum : int {
  TracePacketField = 1, // Trace.packet
  // TracePacket
  Timestamp = 8,
  SequenceId = 10, // trusted_packet_sequence_id
  TrackEventField = 11,
  InternedDataField = 12,
  SequenceFlags = 13,
  PacketDefaults = 59,
  TrackDescriptorField = 60,
  // TracePacketDefaults
  TrackEventDefaults = 11,
  // TrackDescriptor
  Uuid = 1,
  ProcessField = 3,
  ThreadField = 4,
  ParentUuid = 5,
  // ProcessDescriptor, ThreadDescriptor
  DescPid = 1,
  DescTid = 2,
  SortIndex = 3, // legacy_sort_index: the order of processes, and of threads in one
  ThreadName = 5,
  ProcessName = 6,
  // TrackEvent
  DebugAnnotations = 4,
  Type = 9,
  NameIid = 10,
  TrackUuid = 11, // also in TrackEventDefaults
  SourceLocationIid = 34,
  // InternedData: EventName, SourceLocation, DebugAnnotationName
  EventNames = 2,
  DebugAnnotationNames = 3,
  SourceLocations = 4,
  Iid = 1,
  InternedName = 2,
  FileName = 2,
  LineNumber = 4,
  // DebugAnnotation
  AnnotationNameIid = 1,
  AnnotationUintValue = 3,
  AnnotationStringValue = 6,
  AnnotationName = 10,
};

/// The counters a call may carry, as debug annotations ("args" in the UI) with names interned
/// once per sequence: a call with CPU time and allocations costs about 12 bytes more.
struct Counter {
  const char *Name;
  std::optional<int64_t> Call::*Of;
};
constexpr Counter Counters[] = {{"cpu_ns", &Call::CpuNs},
                                {"allocs", &Call::Allocs},
                                {"alloc_bytes", &Call::AllocBytes},
                                {"self_alloc_bytes", &Call::SelfAllocBytes}};
enum : uint64_t { SliceBegin = 1, SliceEnd = 2 };
enum : uint64_t { IncrementalStateCleared = 1, NeedsIncrementalState = 2 };

// Track uuids: processes and threads apart (the high bits). A thread's is by its first row:
// the thread that exec'd keeps its track (trace_processor reads a second track of one tid as
// the tid reused).
uint64_t processUuid(int64_t Pid) { return 1ull << 62 | static_cast<uint64_t>(Pid); }
uint64_t threadUuid(int64_t ThreadId) { return 1ull << 63 | static_cast<uint64_t>(ThreadId); }

/// One packet sequence per thread: its first packet clears the sequence's state and sets its
/// track as the default of its events; a function's name and file:line are interned on first
/// use. A call then costs about 40 bytes, its begin and end.
class Writer : public SliceSink {
public:
  Writer(db::Database &Db, OutputFile &Out) : Db(Db), Out(Out), Sites(db::loadSiteNames(Db)) {}

  std::map<std::pair<int64_t, int64_t>, uint64_t> Tracks; ///< (pid, tid) -> uuid

  void packet(const Message &M) { Out.write(Message().message(TracePacketField, M).data()); }

  void beginLane(const Lane &L) override {
    ++Sequence;
    Interned.clear();
    InternedCounters = false;
    First = true;
    Track = Tracks.at({L.Pid, L.Tid});
  }
  void begin(const Call &C, int64_t Time) override {
    auto Site = static_cast<uint64_t>(C.Site);
    Message Event;
    Event.varint(Type, SliceBegin).varint(NameIid, Site).varint(SourceLocationIid, Site);
    if (C.Broken && C.ExceptionId == C.Id)
      Event.message(DebugAnnotations,
                    Message()
                        .bytes(AnnotationName, "exception")
                        .bytes(AnnotationStringValue, exceptionText(Db, C.ExceptionId)));
    bool HasCounters = false;
    for (size_t I = 0; I < std::size(Counters); ++I)
      if (const auto &V = C.*Counters[I].Of) {
        HasCounters = true;
        Event.message(DebugAnnotations,
                      Message()
                          .varint(AnnotationNameIid, I + 1)
                          .varint(AnnotationUintValue, static_cast<uint64_t>(*V)));
      }
    Message P, Data;
    if (Interned.insert(C.Site).second) {
      const db::SiteName &S = Sites[C.Site];
      Data.message(EventNames, Message().varint(Iid, Site).bytes(InternedName, S.Signature))
          .message(SourceLocations, Message()
                                        .varint(Iid, Site)
                                        .bytes(FileName, S.File)
                                        .varint(LineNumber, static_cast<uint64_t>(S.Line)));
    }
    if (HasCounters && !InternedCounters) {
      InternedCounters = true;
      for (size_t I = 0; I < std::size(Counters); ++I)
        Data.message(DebugAnnotationNames,
                     Message().varint(Iid, I + 1).bytes(InternedName, Counters[I].Name));
    }
    if (!Data.data().empty())
      P.message(InternedDataField, Data);
    emit(P.message(TrackEventField, Event), Time);
  }
  void end(const Call &, int64_t Time) override {
    Message P;
    emit(P.message(TrackEventField, Message().varint(Type, SliceEnd)), Time);
  }
  void endLane(const Lane &) override {}

private:
  void emit(Message &P, int64_t Time) {
    P.varint(Timestamp, static_cast<uint64_t>(Time))
        .varint(SequenceId, Sequence)
        .varint(SequenceFlags, First ? IncrementalStateCleared : NeedsIncrementalState);
    if (First)
      P.message(PacketDefaults,
                Message().message(TrackEventDefaults, Message().varint(TrackUuid, Track)));
    First = false;
    packet(P);
  }

  db::Database &Db;
  OutputFile &Out;
  std::map<int64_t, db::SiteName> Sites;
  std::unordered_set<int64_t> Interned;
  bool InternedCounters = false; ///< the counters' names, in this sequence
  uint64_t Sequence = 0, Track = 0;
  bool First = true;
};

} // namespace

void exportPerfetto(db::Database &Db, const Options &O, OutputFile &Out) {
  auto Lanes = lanes(Db, O);
  Writer W(Db, Out);
  // Descriptors first: a track per process (pid), one per thread under it, with the lanes'
  // order as sort indexes (what Chrome JSON's sort_index metadata becomes). The UI names
  // them "name pid" itself.
  std::set<int64_t> Described;
  for (size_t I = 0; I < Lanes.size(); ++I) {
    const Lane &L = Lanes[I];
    if (Described.insert(L.Pid).second)
      W.packet(Message().message(
          TrackDescriptorField,
          Message()
              .varint(Uuid, processUuid(L.Pid))
              .message(ProcessField, Message()
                                         .varint(DescPid, static_cast<uint64_t>(L.Pid))
                                         .varint(SortIndex, static_cast<uint64_t>(L.ProcessRank))
                                         .bytes(ProcessName, L.Process))));
    if (!W.Tracks.emplace(std::pair{L.Pid, L.Tid}, threadUuid(L.ThreadId)).second)
      continue;
    W.packet(Message().message(
        TrackDescriptorField,
        Message()
            .varint(Uuid, threadUuid(L.ThreadId))
            .varint(ParentUuid, processUuid(L.Pid))
            .message(ThreadField, Message()
                                      .varint(DescPid, static_cast<uint64_t>(L.Pid))
                                      .varint(DescTid, static_cast<uint64_t>(L.Tid))
                                      .varint(SortIndex, I)
                                      .bytes(ThreadName, L.Thread))));
  }
  walkSlices(Db, O, Lanes, W);
}

} // namespace scopeprof::cli::exporter
