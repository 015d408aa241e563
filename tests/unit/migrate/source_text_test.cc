#include "control/migrate/source_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::migrate {
namespace {

std::vector<std::pair<uint32_t, std::string>> lines_of(std::string_view bytes) {
  auto source = SourceText::open({"f", bytes});
  EXPECT_TRUE(source.ok()) << (source.ok() ? "" : source.error().message);
  std::vector<std::pair<uint32_t, std::string>> out;
  if (source.ok())
    for (const auto& line : source->lines()) out.emplace_back(line.number, std::string(line.text));
  return out;
}

using Lines = std::vector<std::pair<uint32_t, std::string>>;

struct SplitCase {
  const char* what;
  std::string bytes;
  Lines lines;
};

TEST(SourceText, SplitsLinesTheSameWhateverTheQuirks) {
  const Lines ab = {{1, "a"}, {2, ""}, {3, "b"}};
  const SplitCase cases[] = {
      {"LF", "a\n\nb\n", ab},
      {"CRLF", "a\r\n\r\nb\r\n", ab},
      {"no final line end", "a\n\nb", ab},
      {"BOM",
       "\xEF\xBB\xBF"
       "a\n\nb\n",
       ab},
      {"Ctrl-Z", "a\n\nb\n\x1A", ab},
      {"Ctrl-Z then CRLF", "a\r\n\r\nb\r\n\x1A\r\n", ab},
      {"several Ctrl-Z, no line end", "a\n\nb\x1A\x1A", ab},
      {"BOM, CRLF and Ctrl-Z",
       "\xEF\xBB\xBF"
       "a\r\n\r\nb\r\n\x1A",
       ab},
      {"mixed line ends", "a\r\n\nb\n", ab},
      {"empty", "", {}},
      {"BOM only", "\xEF\xBB\xBF", {}},
      {"Ctrl-Z only", "\x1A", {}},
      {"tab kept", "a\tb\n", {{1, "a\tb"}}},
  };
  for (const auto& c : cases) EXPECT_EQ(lines_of(c.bytes), c.lines) << c.what;
}

struct BadCase {
  const char* what;
  std::string bytes;
  std::string error;
};

TEST(SourceText, RefusesBytesNoImportFormatHolds) {
  const BadCase cases[] = {
      {"Latin-1", "ok\nM\xFCller\n",
       "f:2:2: byte 0xFC is not UTF-8; convert the file to UTF-8 first (for example with iconv "
       "-f latin1 -t utf-8)"},
      {"overlong", "\xC0\x80",
       "f:1:1: byte 0xC0 is not UTF-8; convert the file to UTF-8 first "
       "(for example with iconv -f latin1 -t utf-8)"},
      {"surrogate", "ab\xED\xA0\x80",
       "f:1:3: byte 0xED is not UTF-8; convert the file to UTF-8 "
       "first (for example with iconv -f latin1 -t utf-8)"},
      {"truncated", "\xC3",
       "f:1:1: byte 0xC3 is not UTF-8; convert the file to UTF-8 first (for "
       "example with iconv -f latin1 -t utf-8)"},
      {"above U+10FFFF", "\xF5\x80\x80\x80",
       "f:1:1: byte 0xF5 is not UTF-8; convert the file to "
       "UTF-8 first (for example with iconv -f latin1 -t "
       "utf-8)"},
      {"NUL", std::string("a\0b", 3), "f:1:2: control character U+0000"},
      {"escape", "\xC3\xA9\x1B", "f:1:2: control character U+001B"},
      {"C1 control", "x\xC2\x85", "f:1:2: control character U+0085"},
      {"DEL", "\x7F", "f:1:1: control character U+007F"},
      {"Ctrl-Z inside",
       "a\x1A"
       "b\n",
       "f:1:2: control character U+001A"},
      {"bare CR", "a\rb\n", "f:1:2: carriage return (CR) in the middle of a line"},
      {"old Mac line ends", "a\rb\r", "f:1:2: carriage return (CR) in the middle of a line"},
  };
  for (const auto& c : cases) {
    auto source = SourceText::open({"f", c.bytes});
    ASSERT_FALSE(source.ok()) << c.what;
    EXPECT_EQ(source.error().message, c.error) << c.what;
  }
}

TEST(SourceText, ColumnsCountCharactersNotBytes) {
  std::string text = "J\xC3\xBCrgen \xE2\x82\xAC x";  // "Jürgen € x"
  SourceLine line{7, text};
  EXPECT_EQ(SourceText::column_of(line, 0), 1u);
  EXPECT_EQ(SourceText::column_of(line, 3), 3u);   // 'r' after the two-byte ü
  EXPECT_EQ(SourceText::column_of(line, 11), 9u);  // ' ' after the three-byte €
  auto source = SourceText::open({"users.txt", text});
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(source->error_at(source->lines()[0], 12, "here").message, "users.txt:1:10: here");
  EXPECT_EQ(source->note_at(source->lines()[0], 0, "note").to_string(), "users.txt:1:1: note");
}

TEST(SourceText, BlankCommentAndTrim) {
  EXPECT_TRUE(is_blank(""));
  EXPECT_TRUE(is_blank(" \t "));
  EXPECT_FALSE(is_blank(" x"));
  EXPECT_TRUE(is_comment("# x"));
  EXPECT_TRUE(is_comment("  \t#"));
  EXPECT_FALSE(is_comment("a # b"));
  EXPECT_FALSE(is_comment(""));
  EXPECT_EQ(trim_blanks(" \ta b\t "), "a b");
  EXPECT_EQ(trim_blanks("  "), "");
}

}  // namespace
}  // namespace postcore::migrate
