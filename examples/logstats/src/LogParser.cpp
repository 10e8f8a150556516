// Access-log parsing. normalizePath is the program's hot spot: it builds a std::regex on every
// call, a classic mistake a profile finds at once.
#include "logstats/LogParser.h"

#include <charconv>
#include <regex>

namespace logstats {

std::string_view LogParser::nextField(std::string_view &Rest) {
  size_t Start = Rest.find_first_not_of(' ');
  if (Start == std::string_view::npos)
    throw ParseError("missing field");
  Rest.remove_prefix(Start);
  size_t End = Rest.find(' ');
  std::string_view Field = Rest.substr(0, End);
  Rest.remove_prefix(End == std::string_view::npos ? Rest.size() : End);
  return Field;
}

Method LogParser::parseMethod(std::string_view Word) {
  if (Word == "GET")
    return Method::Get;
  if (Word == "POST")
    return Method::Post;
  if (Word == "PUT")
    return Method::Put;
  if (Word == "DELETE")
    return Method::Delete;
  throw ParseError("unknown method '" + std::string(Word) + "'");
}

std::string LogParser::normalizePath(std::string_view Path) {
  std::regex Number("/[0-9]+");
  return std::regex_replace(std::string(Path), Number, "/:id");
}

Record LogParser::parse(std::string_view Line) const {
  std::string_view Rest = Line;
  Record R;
  R.Client = std::string(nextField(Rest));
  R.Verb = parseMethod(nextField(Rest));
  R.Path = normalizePath(nextField(Rest));
  auto Number = [](std::string_view Field, auto &Out) {
    auto [End, Error] = std::from_chars(Field.data(), Field.data() + Field.size(), Out);
    if (Error != std::errc() || End != Field.data() + Field.size())
      throw ParseError("bad number '" + std::string(Field) + "'");
  };
  Number(nextField(Rest), R.Status);
  Number(nextField(Rest), R.Bytes);
  int Micros = 0;
  Number(nextField(Rest), Micros);
  R.LatencyMs = Micros / 1000.0;
  return R;
}

} // namespace logstats
