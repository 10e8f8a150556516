// jsoncpp workload: generate a JSON document (~1 MB at 2000 records), then ROUNDS times parse it
// (CharReaderBuilder), walk it reading values, modify it, write it (StyledWriter on even rounds,
// StreamWriterBuilder indented on odd rounds, FastWriter always), parse the styled output again
// (old Reader) and walk it. Deterministic checksum. usage: jsonbench RECORDS ROUNDS
#include <cstdio>
#include <cstdlib>
#include <json/json.h>
#include <memory>
#include <sstream>
#include <string>

static std::string generate(int records) {
  unsigned x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return (x >> 8) & 0xffff;
  };
  std::string s =
      "{\n  \"name\": \"catalog \\\"generated\\\"\",\n  \"version\": 3,\n  \"records\": [\n";
  char buf[1024];
  for (int i = 0; i < records; ++i) {
    std::snprintf(buf, sizeof buf,
                  "    {\"id\": %d, \"key\": \"rec-%05d\", \"lang\": \"%s\", \"price\": %u.%02u, "
                  "\"ratio\": %u.%ue-%u,"
                  " \"stock\": %u, \"available\": %s, \"missing\": null, \"big\": %u%u%u,"
                  " \"title\": \"Title <%u> \\\"volume\\\" %d \\u00e9\\u4e2d\\n\\ttab\","
                  " \"author\": {\"first\": \"A%u\", \"last\": \"Writer & Co.\", \"born\": %u, "
                  "\"tags\": [\"x\", \"y%u\"]},"
                  " \"tags\": [",
                  i, i, (next() & 1) ? "en" : "fr", next() % 100, next() % 100, next() % 10,
                  next() % 1000, next() % 20, next() % 1000, (next() & 3) ? "true" : "false",
                  next() % 9 + 1, next(), next(), next(), i, next(), 1900 + next() % 120,
                  next() % 50);
    s += buf;
    int tags = 1 + next() % 6;
    for (int t = 0; t < tags; ++t) {
      std::snprintf(buf, sizeof buf, "%s{\"w\": %u, \"t\": \"t%u\", \"v\": [%u, %u.5, -%u]}",
                    t ? ", " : "", next() % 10, next() % 50, next(), next() % 100, next() % 1000);
      s += buf;
    }
    s += "]}";
    s += (i + 1 < records) ? ",\n" : "\n";
  }
  s += "  ],\n  \"end\": true\n}\n";
  return s;
}

static unsigned long walk(Json::Value &root, int round) {
  unsigned long sum = 0;
  Json::Value &recs = root["records"];
  if (!recs.isArray()) {
    std::fprintf(stderr, "jsonbench: no records\n");
    std::exit(1);
  }
  Json::ArrayIndex n = recs.size();
  for (Json::ArrayIndex i = 0; i < n; ++i) {
    Json::Value &r = recs[i];
    sum += static_cast<unsigned long>(r["id"].asInt());
    sum += static_cast<unsigned long>(r["price"].asDouble() * 100);
    sum += static_cast<unsigned long>(r.get("ratio", 0.0).asDouble() * 1e6);
    sum +=
        r["stock"].asUInt() + (r["available"].asBool() ? 1 : 0) + (r["missing"].isNull() ? 2 : 0);
    sum += r["big"].asLargestUInt() % 1000;
    sum += r["title"].asString().size() + r["lang"].asString()[0];
    const Json::Value &a = r["author"];
    if (a.isMember("born"))
      sum += a["born"].asUInt();
    for (const auto &t : a["tags"])
      sum += t.asString().size();
    for (const auto &name : a.getMemberNames())
      sum += name.size();
    for (const auto &t : r["tags"]) {
      sum += t["w"].asUInt() + t["t"].asString().size();
      for (const auto &v : t["v"])
        sum += static_cast<unsigned long>(v.asDouble());
    }
    if (i % 50 == static_cast<unsigned>(round % 50)) { // modify a few records per round
      r["stock"] = r["stock"].asUInt() + 1;
      Json::Value note(Json::objectValue);
      note["round"] = round;
      note["text"] = "note " + std::to_string(round);
      r["notes"].append(note);
      r.removeMember("missing");
    }
  }
  if (n > static_cast<unsigned>(round)) {
    Json::Value removed;
    recs.removeIndex(static_cast<Json::ArrayIndex>(round), &removed);
    sum += removed["id"].asUInt();
  }
  root["round"] = round;
  return sum + n;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: jsonbench RECORDS ROUNDS\n");
    return 2;
  }
  int records = std::atoi(argv[1]), rounds = std::atoi(argv[2]);
  std::string text = generate(records);
  unsigned long sum = 0;
  Json::CharReaderBuilder rb;
  std::unique_ptr<Json::CharReader> reader(rb.newCharReader());
  Json::StreamWriterBuilder wb;
  wb["indentation"] = "  ";
  for (int r = 0; r < rounds; ++r) {
    Json::Value root;
    std::string errs;
    if (!reader->parse(text.data(), text.data() + text.size(), &root, &errs)) {
      std::fprintf(stderr, "jsonbench: parse error: %s\n", errs.c_str());
      return 1;
    }
    sum += walk(root, r);
    std::string styled;
    if (r % 2 == 0) {
      Json::StyledWriter sw;
      styled = sw.write(root);
    } else {
      styled = Json::writeString(wb, root);
    }
    Json::FastWriter fw;
    std::string fast = fw.write(root);
    sum += styled.size() + fast.size();
    Json::Value again;
    Json::Reader old;
    if (!old.parse(styled, again)) {
      std::fprintf(stderr, "jsonbench: reparse error: %s\n",
                   old.getFormattedErrorMessages().c_str());
      return 1;
    }
    sum += walk(again, r + 1);
    sum += (again == root) ? 7 : 0;
  }
  std::printf("jsonbench: %d records, %d rounds, %zu bytes, checksum %lu\n", records, rounds,
              text.size(), sum);
  return 0;
}
