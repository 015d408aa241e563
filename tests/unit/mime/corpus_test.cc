// Every corpus message against the BODYSTRUCTURE, BODY and ENVELOPE that Dovecot 2.3
// answered for it (NAME.imap, written by make_fixtures.sh) except where NAME.differs
// says postcore answers otherwise, and against itself fed in pieces.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "dataplane/mime/imap_render.h"
#include "dataplane/mime/parser.h"

namespace postcore::mime {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(MIME_CORPUS_DIR)) {
    if (entry.path().extension() == ".eml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Everything the parser reports, in one comparable string.
void describe(const Part& part, std::string& out) {
  out += fmt::format("[{} {} {} {} {} ", part.start, part.body_start, part.end, part.body_lines,
                     part.body_bare_lf);
  out += imap_bodystructure(part, true);
  if (part.envelope) out += imap_envelope(part);
  for (const Part& child : part.children) describe(child, out);
  out += ']';
}

std::string describe(const ParsedMessage& message) {
  std::string out = fmt::format("{} {} ", message.size, message.faults);
  describe(message.root, out);
  return out;
}

// A fixture holds one "ITEM VALUE" line per FETCH item, the value escaped (\\, \r, \n,
// \xHH) so that literals and 8-bit octets fit on one line.
std::map<std::string, std::string> read_fixture(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    std::string value;
    const std::string_view escaped = std::string_view(line).substr(space + 1);
    for (size_t i = 0; i < escaped.size(); ++i) {
      if (escaped[i] == '\\' && i + 1 < escaped.size()) {
        const char next = escaped[++i];
        if (next == 'r') {
          value += '\r';
        } else if (next == 'n') {
          value += '\n';
        } else if (next == 'x' && i + 2 < escaped.size()) {
          value += static_cast<char>(std::stoi(std::string(escaped.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          value += next;
        }
      } else {
        value += escaped[i];
      }
    }
    out[line.substr(0, space)] = value;
  }
  return out;
}

// Dovecot sends a value that was folded as a literal even after unfolding it; a quoted
// string is as good (and what this renderer sends), so such literals are compared quoted.
std::string quote_plain_literals(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      // Copy a quoted string whole, so a "{" inside it is not taken for a literal.
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      out.append(text.substr(i, j + 1 - i));
      i = j + 1;
      continue;
    }
    const size_t close = text[i] == '{' ? text.find("}\r\n", i) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += text[i++];
      continue;
    }
    const size_t length = std::stoul(std::string(text.substr(i + 1, close - i - 1)));
    const std::string_view value = text.substr(close + 3, length);
    if (std::all_of(value.begin(), value.end(),
                    [](unsigned char c) { return c >= 0x20 && c < 0x80; })) {
      append_imap_string(out, value);
    } else {
      out.append(text.substr(i, close + 3 + length - i));
    }
    i = close + 3 + length;
  }
  return out;
}

// What FETCH item (BODY[2.1.MIME] ...) returns, served as Dovecot serves it: every line
// break a CRLF, NUL as 0x80. Empty where there is no such part.
std::string fetch_section(std::string_view text, const Part& root, std::string_view item) {
  std::string_view spec = item.substr(5, item.size() - 6);
  SectionText what = SectionText::body;
  for (auto [suffix, kind] : {std::pair{"MIME", SectionText::mime},
                              {"HEADER", SectionText::header},
                              {"TEXT", SectionText::text}}) {
    const std::string_view name = suffix;
    if (spec == name || spec.ends_with("." + std::string(name))) {
      what = kind;
      spec.remove_suffix(std::min(spec.size(), name.size() + 1));
    }
  }
  const auto range = section_range(root, spec, what);
  if (!range) return {};
  std::string out;
  char previous = '\0';
  for (char c : text.substr(range->begin, range->end - range->begin)) {
    if (c == '\n' && previous != '\r') out += '\r';
    out += c == '\0' ? '\x80' : c;
    previous = c;
  }
  return out;
}

TEST(MimeCorpus, MatchesReferenceAnswers) {
  size_t checked = 0;
  size_t sections = 0;
  for (const fs::path& path : corpus()) {
    fs::path fixture = path;
    fixture.replace_extension(".imap");
    if (!fs::exists(fixture)) continue;
    SCOPED_TRACE(path.filename().string());
    const std::string text = read_file(path);
    const ParsedMessage message = parse_message(text);
    auto expected = read_fixture(fixture);
    for (const char* item : {"BODYSTRUCTURE", "BODY", "ENVELOPE"}) {
      expected.at(item) = quote_plain_literals(expected.at(item));
    }
    // Where postcore answers differently on purpose, NAME.differs says so and why.
    fs::path differs = path;
    differs.replace_extension(".differs");
    if (fs::exists(differs)) {
      for (auto& [item, value] : read_fixture(differs)) {
        EXPECT_NE(expected.at(item), value) << item << " no longer differs";
        expected[item] = value;
      }
    }
    EXPECT_EQ(imap_bodystructure(message.root, true), expected.at("BODYSTRUCTURE"));
    EXPECT_EQ(imap_bodystructure(message.root, false), expected.at("BODY"));
    EXPECT_EQ(imap_envelope(message.root), expected.at("ENVELOPE"));
    for (const auto& [item, value] : expected) {
      if (!item.starts_with("BODY[")) continue;
      ++sections;
      EXPECT_EQ(fetch_section(text, message.root, item), value) << item;
    }
    ++checked;
  }
  EXPECT_GE(checked, 20u);
  EXPECT_GE(sections, 200u);
}

TEST(MimeCorpus, AnySplitGivesTheSameTree) {
  for (const fs::path& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    const std::string text = read_file(path);
    const std::string whole = describe(parse_message(text));
    // Every two-piece split of small messages, every 61st of larger ones.
    const size_t step = text.size() < 8192 ? 1 : 61;
    for (size_t i = 0; i <= text.size(); i += step) {
      MimeParser parser;
      parser.feed(std::string_view(text).substr(0, i));
      parser.feed(std::string_view(text).substr(i));
      ASSERT_EQ(describe(parser.finish()), whole) << "split at " << i;
    }
    MimeParser bytewise;
    for (char c : text) bytewise.feed(std::string_view(&c, 1));
    EXPECT_EQ(describe(bytewise.finish()), whole);
  }
}

// Offsets nest: every part lies in its parent's body, in order, without overlap.
void check_offsets(const Part& part, uint64_t lower, uint64_t upper) {
  ASSERT_LE(lower, part.start);
  ASSERT_LE(part.start, part.body_start);
  ASSERT_LE(part.body_start, part.end);
  ASSERT_LE(part.end, upper);
  ASSERT_LE(part.body_bare_lf, part.body_lines);
  uint64_t next = part.body_start;
  for (const Part& child : part.children) {
    check_offsets(child, next, part.end);
    next = child.end;
  }
}

// Parentheses balance outside quoted strings and literals, and nothing follows the end.
bool balanced(std::string_view text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{') {
      const size_t close = text.find("}\r\n", i);
      if (close == std::string_view::npos) return false;
      i = close + 2 + std::stoul(std::string(text.substr(i + 1, close - i - 1)));
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) return i + 1 == text.size();
    }
  }
  return false;
}

// Corpus messages with random damage (the octets that steer a MIME reader, deletions,
// repeated lines, truncation): the tree stays consistent, the answers parseable, and
// splitting still does not matter.
TEST(MimeCorpus, DamagedMessagesGiveConsistentTrees) {
  std::mt19937 random(20261207);
  constexpr std::string_view kSteering = "-\n\r:\";()=?\0\t ";
  size_t mutants = 0;
  for (const fs::path& path : corpus()) {
    const std::string original = read_file(path);
    if (original.empty()) continue;
    for (int round = 0; round < 60; ++round) {
      std::string text = original;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const size_t at = random() % text.size();
        switch (random() % 4) {
          case 0:
            text[at] = kSteering[random() % kSteering.size()];
            break;
          case 1:
            text.erase(at, random() % 40);
            break;
          case 2: {
            const size_t line_start = text.rfind('\n', at);
            const size_t from = line_start == std::string::npos ? 0 : line_start + 1;
            const size_t line_end = text.find('\n', at);
            const size_t to = line_end == std::string::npos ? text.size() : line_end + 1;
            text.insert(from, text.substr(from, to - from));
            break;
          }
          default:
            text.resize(at);
        }
      }
      SCOPED_TRACE(path.filename().string() + " round " + std::to_string(round));
      const ParsedMessage parsed = parse_message(text);
      check_offsets(parsed.root, 0, text.size());
      ASSERT_EQ(parsed.root.end, text.size());
      ASSERT_TRUE(balanced(imap_bodystructure(parsed.root, true)));
      ASSERT_TRUE(balanced(imap_bodystructure(parsed.root, false)));
      ASSERT_TRUE(balanced(imap_envelope(parsed.root)));
      const std::string whole = describe(parsed);
      for (int split = 0; split < 3; ++split) {
        const size_t at = text.empty() ? 0 : random() % text.size();
        MimeParser parser;
        parser.feed(std::string_view(text).substr(0, at));
        parser.feed(std::string_view(text).substr(at));
        ASSERT_EQ(describe(parser.finish()), whole) << "split at " << at;
      }
      ++mutants;
    }
  }
  EXPECT_GT(mutants, 1000u);
}

}  // namespace
}  // namespace postcore::mime
