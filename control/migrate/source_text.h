// SourceText: an import file's bytes made ready for a line parser, and the positions that
// every message about the file must carry. Shared by every migration parser so that they all
// accept the same quirks of old systems (CRLF, a UTF-8 byte order mark, a trailing Ctrl-Z)
// and all name a position the same way: FILE:LINE:COLUMN, 1-based, the line counted in the
// real file (comments and blank lines included), the column counted in characters (UTF-8
// code points), which is what an editor's status bar shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace postcore::migrate {

// An import file as the caller read it: its name (for messages) and its bytes.
struct InputFile {
  std::string_view name;
  std::string_view bytes;
};

// Something the import should tell the administrator without refusing the file: an ignored
// field, a skipped user, an alias target that cannot be imported.
struct ImportNote {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;

  std::string to_string() const;  // "FILE:LINE:COLUMN: message"
};

struct SourceLine {
  uint32_t number = 0;    // 1-based line number in the file
  std::string_view text;  // without the line end (LF or CRLF)
};

// Views into the InputFile's bytes, which must outlive it.
class SourceText {
 public:
  // Drops a leading UTF-8 BOM and a trailing run of Ctrl-Z (0x1A, with any line ends around
  // it), splits at LF with an optional CR before it, and refuses the file at the first byte
  // that is not UTF-8, a control character other than TAB, or a CR not ending a line.
  static Result<SourceText> open(InputFile file);

  std::string_view file_name() const { return file_name_; }
  const std::vector<SourceLine>& lines() const { return lines_; }

  // The column of the byte `offset` bytes into `line.text`.
  static uint32_t column_of(const SourceLine& line, size_t offset);

  // EINVAL, "FILE:LINE:COLUMN: message" for the byte `offset` bytes into line.text.
  Error error_at(const SourceLine& line, size_t offset, std::string_view message) const;
  ImportNote note_at(const SourceLine& line, size_t offset, std::string message) const;

 private:
  std::string_view file_name_;
  std::vector<SourceLine> lines_;
};

// A line holding nothing but spaces and tabs.
bool is_blank(std::string_view text);
// A line whose first character other than a space or tab is '#'.
bool is_comment(std::string_view text);
// `text` without leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view text);

}  // namespace postcore::migrate
