// scripts/bench-accuracy's tinyxml2 workload: what a program using a DOM parser does, on a
// generated document big enough to take seconds. Each round parses the document, walks it
// reading attributes and text, edits it (new elements, attribute changes, deletions), prints it
// to memory, and parses the printed text again; a deep copy and a compact print every round.
// Deterministic: the checksum printed at the end is the same for every build of tinyxml2.
// usage: xmlbench RECORDS ROUNDS
#include "tinyxml2.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace tinyxml2;

static std::string generate(int records) {
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- generated catalog -->\n<catalog>\n";
  unsigned x = 12345;
  auto next = [&x] { x = x * 1103515245u + 12345u; return (x >> 8) & 0xffff; };
  char buf[512];
  for (int i = 0; i < records; ++i) {
    std::snprintf(buf, sizeof buf,
                  "  <book id=\"bk%d\" lang=\"%s\" price=\"%u.%02u\" stock=\"%u\" available=\"%s\">\n"
                  "    <author>Author &amp; Co. %u</author>\n"
                  "    <title>Title &lt;%u&gt; &quot;volume&quot; %d</title>\n",
                  i, (next() & 1) ? "en" : "fr", next() % 100, next() % 100, next() % 1000,
                  (next() & 3) ? "true" : "false", next(), next(), i);
    s += buf;
    s += "    <description><![CDATA[Some <raw> text & more]]> and plain text, with entities &#65;&#x42;.</description>\n    <tags>";
    int tags = 1 + next() % 5;
    for (int t = 0; t < tags; ++t) {
      std::snprintf(buf, sizeof buf, "<tag weight=\"%u\">t%u</tag>", next() % 10, next() % 50);
      s += buf;
    }
    s += "</tags>\n    <!-- record end -->\n  </book>\n";
  }
  s += "</catalog>\n";
  return s;
}

static unsigned long walk(XMLDocument &doc, int round) {
  unsigned long sum = 0;
  XMLElement *catalog = doc.FirstChildElement("catalog");
  if (!catalog) { std::fprintf(stderr, "xmlbench: no catalog\n"); std::exit(1); }
  int n = 0;
  XMLElement *victim = nullptr;
  for (XMLElement *b = catalog->FirstChildElement("book"); b; b = b->NextSiblingElement("book"), ++n) {
    int stock = 0;
    double price = 0;
    bool available = false;
    b->QueryIntAttribute("stock", &stock);
    b->QueryDoubleAttribute("price", &price);
    b->QueryBoolAttribute("available", &available);
    sum += stock + static_cast<unsigned long>(price * 100) + available;
    if (const char *lang = b->Attribute("lang")) sum += lang[0];
    if (const XMLElement *t = b->FirstChildElement("title"))
      if (const char *text = t->GetText()) sum += std::string(text).size();
    if (const XMLElement *tags = b->FirstChildElement("tags"))
      for (const XMLElement *t = tags->FirstChildElement(); t; t = t->NextSiblingElement())
        sum += t->IntAttribute("weight") + (t->GetText() ? t->GetText()[1] : 0);
    if (n % 50 == round % 50) {  // edit a few records per round
      b->SetAttribute("stock", stock + 1);
      XMLElement *note = doc.NewElement("note");
      note->SetText(round);
      b->InsertEndChild(note);
    }
    if (n == round) victim = b;
  }
  if (victim) catalog->DeleteChild(victim);
  return sum + n;
}

int main(int argc, char **argv) {
  if (argc != 3) { std::fprintf(stderr, "usage: xmlbench RECORDS ROUNDS\n"); return 2; }
  int records = std::atoi(argv[1]), rounds = std::atoi(argv[2]);
  std::string text = generate(records);
  unsigned long sum = 0;
  for (int r = 0; r < rounds; ++r) {
    XMLDocument doc;
    if (doc.Parse(text.data(), text.size()) != XML_SUCCESS) {
      std::fprintf(stderr, "xmlbench: parse error: %s\n", doc.ErrorStr());
      return 1;
    }
    sum += walk(doc, r);
    XMLPrinter printer;
    doc.Print(&printer);
    sum += printer.CStrSize();
    XMLDocument again;
    if (again.Parse(printer.CStr(), printer.CStrSize() - 1) != XML_SUCCESS) {
      std::fprintf(stderr, "xmlbench: reparse error: %s\n", again.ErrorStr());
      return 1;
    }
    XMLDocument copy;
    again.DeepCopy(&copy);
    XMLPrinter compact(nullptr, true);
    copy.Print(&compact);
    sum += compact.CStrSize() + walk(copy, r + 1);
  }
  std::printf("xmlbench: %d records, %d rounds, %zu bytes, checksum %lu\n", records, rounds,
              text.size(), sum);
  return 0;
}
