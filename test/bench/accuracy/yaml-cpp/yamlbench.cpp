// yaml-cpp workload: generate a YAML document of RECORDS records (block and flow collections,
// quoted and plain scalars with escapes, anchors and aliases, multi-line text), then ROUNDS
// times load it (YAML::Load), walk it converting every scalar (as<int>, as<double>, as<bool>,
// as<std::string>), edit it (assign, push_back, remove), emit it (YAML::Emitter, block style on
// even rounds and flow style on odd ones), load the emitted text and walk it again.
// Deterministic checksum. usage: yamlbench RECORDS ROUNDS
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <string>

static std::string generate(int records) {
  unsigned x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return (x >> 8) & 0xffff;
  };
  std::string s = "name: \"catalog \\\"generated\\\"\"\nversion: 3\ndefaults: &defaults\n"
                  "  currency: EUR\n  lang: en\nrecords:\n";
  char buf[1024];
  for (int i = 0; i < records; ++i) {
    std::snprintf(buf, sizeof buf,
                  "  - id: %d\n    key: rec-%05d\n    price: %u.%02u\n    ratio: %u.%ue-%u\n"
                  "    stock: %u\n    available: %s\n    missing: ~\n"
                  "    title: \"Title <%u> \\\"volume\\\" %d \\u00e9\\ttab\"\n"
                  "    note: |\n      first line %u\n      second line: with a colon\n"
                  "    settings: *defaults\n"
                  "    author: {first: A%u, last: 'Writer & Co.', born: %u, tags: [x, y%u]}\n"
                  "    tags:\n",
                  i, i, next() % 100, next() % 100, next() % 10, next() % 1000, next() % 20,
                  next() % 1000, (next() & 3) ? "true" : "false", next(), i, next(),
                  next() % 9 + 1, 1900 + next() % 120, next() % 50);
    s += buf;
    int tags = 1 + next() % 5;
    for (int t = 0; t < tags; ++t) {
      std::snprintf(buf, sizeof buf, "      - {w: %u, t: t%u, v: [%u, %u.5, -%u]}\n", next() % 10,
                    next() % 50, next(), next() % 100, next() % 1000);
      s += buf;
    }
  }
  s += "end: true\n";
  return s;
}

static unsigned long walk(YAML::Node root, int round) {
  unsigned long sum = 0;
  YAML::Node recs = root["records"];
  if (!recs.IsSequence()) {
    std::fprintf(stderr, "yamlbench: no records\n");
    std::exit(1);
  }
  for (std::size_t i = 0; i < recs.size(); ++i) {
    YAML::Node r = recs[i];
    sum += static_cast<unsigned long>(r["id"].as<int>());
    sum += static_cast<unsigned long>(r["price"].as<double>() * 100);
    sum += static_cast<unsigned long>(r["ratio"].as<double>() * 1e6);
    sum += r["stock"].as<unsigned>() + (r["available"].as<bool>() ? 1 : 0) +
           (r["missing"].IsNull() ? 2 : 0);
    sum += r["title"].as<std::string>().size() + r["note"].as<std::string>().size();
    sum += r["settings"]["currency"].as<std::string>().size();
    YAML::Node a = r["author"];
    if (a["born"])
      sum += a["born"].as<unsigned>();
    for (const auto &t : a["tags"])
      sum += t.as<std::string>().size();
    for (const auto &kv : a)
      sum += kv.first.as<std::string>().size();
    for (const auto &t : r["tags"]) {
      sum += t["w"].as<unsigned>() + t["t"].as<std::string>().size();
      for (const auto &v : t["v"])
        sum += static_cast<unsigned long>(v.as<double>());
    }
    if (i % 50 == static_cast<unsigned>(round % 50)) { // modify a few records per round
      r["stock"] = r["stock"].as<unsigned>() + 1;
      YAML::Node note;
      note["round"] = round;
      note["text"] = "edited \"again\"";
      r["edits"].push_back(note);
      r.remove("missing");
    }
  }
  return sum;
}

static std::string emit(const YAML::Node &root, bool flow) {
  YAML::Emitter out;
  if (flow)
    out << YAML::Flow;
  out << root;
  return out.c_str();
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: yamlbench RECORDS ROUNDS\n");
    return 2;
  }
  int records = std::atoi(argv[1]), rounds = std::atoi(argv[2]);
  std::string text = generate(records);
  unsigned long sum = 0;
  for (int round = 0; round < rounds; ++round) {
    YAML::Node root = YAML::Load(text);
    sum += walk(root, round);
    std::string out = emit(root, round % 2 != 0);
    sum += out.size();
    YAML::Node again = YAML::Load(out);
    sum += walk(again, round + 1);
  }
  std::printf("%lu\n", sum);
  return 0;
}
