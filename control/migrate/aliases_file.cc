#include "control/migrate/aliases_file.h"

#include <cerrno>
#include <unordered_map>
#include <utility>

#include "control/migrate/mail_names.h"

namespace postcore::migrate {
namespace {

constexpr std::string_view kInclude = ":include:";

// One aliases(5) logical line: a line that starts with text, with the lines that continue
// it (those starting with whitespace, or following a line that ends in a backslash) joined
// on. Pieces map every offset in the joined text back to its real line and column.
class LogicalLine {
 public:
  void append(const SourceLine& line, std::string_view text) {
    pieces_.push_back(
        Piece{&line, text_.size(), static_cast<size_t>(text.data() - line.text.data())});
    text_.append(text);
  }
  bool empty() const { return pieces_.empty(); }
  const std::string& text() const { return text_; }
  const SourceLine& first_line() const { return *pieces_.front().line; }

  // The real line of, and the offset in it of, the byte at `offset` in text().
  std::pair<const SourceLine*, size_t> locate(size_t offset) const {
    const Piece* piece = &pieces_.front();
    for (const Piece& p : pieces_)
      if (p.start <= offset) piece = &p;
    return {piece->line, piece->line_offset + (offset - piece->start)};
  }

 private:
  struct Piece {
    const SourceLine* line;
    size_t start;        // in text_
    size_t line_offset;  // where the piece starts in line->text
  };
  std::string text_;
  std::vector<Piece> pieces_;
};

bool is_blank_char(char c) {
  return c == ' ' || c == '\t';
}

// Reads the quoted string that starts at text[start] (a '"'), undoing backslash escapes.
// Returns the offset after the closing quote, or npos when there is none.
size_t read_quoted(std::string_view text, size_t start, std::string* out) {
  for (size_t i = start + 1; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      *out += text[++i];
    } else if (text[i] == '"') {
      return i + 1;
    } else {
      *out += text[i];
    }
  }
  return std::string_view::npos;
}

class AliasesParser {
 public:
  AliasesParser(const SourceText& source, std::string domain)
      : source_(source), domain_(std::move(domain)) {}

  Result<void> entry(const LogicalLine& logical);
  AliasesFile finish() {
    file_.file = std::string(source_.file_name());
    file_.domain = domain_;
    return std::move(file_);
  }

 private:
  struct Item {
    std::string_view text;  // trimmed
    size_t offset = 0;      // in the logical line
  };

  Error error(const LogicalLine& logical, size_t offset, std::string_view message) const {
    auto [line, at] = logical.locate(offset);
    return source_.error_at(*line, at, message);
  }
  ImportNote note(const LogicalLine& logical, size_t offset, std::string message) const {
    auto [line, at] = logical.locate(offset);
    return source_.note_at(*line, at, std::move(message));
  }
  Result<size_t> read_name(const LogicalLine& logical, std::string* name);
  Result<std::vector<Item>> split_items(const LogicalLine& logical, size_t start);
  // Sets `target`, or leaves its value empty after noting why it is not imported.
  Result<void> classify(const LogicalLine& logical, const std::string& alias, const Item& item,
                        AliasTarget* target);
  // `item` is the address alone; `at` is the offset in it of the '@' before the domain, or
  // npos; `local` is the local part, unquoted.
  Result<void> classify_address(const LogicalLine& logical, const std::string& alias,
                                const Item& item, size_t at, std::string_view local,
                                size_t local_offset, bool quoted_local, AliasTarget* target);

  const SourceText& source_;
  std::string domain_;
  AliasesFile file_;
  std::unordered_map<std::string, uint32_t> line_of_name_;
};

Result<size_t> AliasesParser::read_name(const LogicalLine& logical, std::string* name) {
  std::string_view text = logical.text();
  size_t i = 0;
  if (text[0] == '"') {
    i = read_quoted(text, 0, name);
    if (i == std::string_view::npos)
      return error(logical, 0, "the quoted alias name has no closing '\"'");
    while (i < text.size() && is_blank_char(text[i])) ++i;
    if (i == text.size() || text[i] != ':')
      return error(logical, i, "expected ':' after the alias name");
  } else {
    i = text.find(':');
    if (i == std::string_view::npos)
      return error(logical, text.size(),
                   "expected ':' after the alias name (an alias is \"name: target, ...\")");
    std::string_view raw = text.substr(0, i);
    while (!raw.empty() && is_blank_char(raw.back())) raw.remove_suffix(1);
    for (size_t j = 0; j < raw.size(); ++j) {
      if (is_blank_char(raw[j]) || raw[j] == '"')
        return error(logical, j,
                     "the alias name contains a space or a '\"'; a name with special "
                     "characters must be quoted as a whole (aliases(5))");
      if (raw[j] == '@')
        return error(logical, j,
                     "an alias name is a local name without a domain (aliases(5)); quote the "
                     "name if '@' is part of it");
    }
    *name = std::string(raw);
  }
  if (name->empty()) return error(logical, 0, "the alias name is empty");
  return i + 1;
}

Result<std::vector<AliasesParser::Item>> AliasesParser::split_items(const LogicalLine& logical,
                                                                    size_t start) {
  std::string_view text = logical.text();
  std::vector<Item> items;
  size_t begin = start;
  for (size_t i = start; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '"') {
      std::string ignored;
      size_t end = read_quoted(text, i, &ignored);
      if (end == std::string_view::npos)
        return error(logical, i, "the quoted string has no closing '\"'");
      i = end - 1;
      continue;
    }
    if (i < text.size() && text[i] != ',') continue;
    std::string_view raw = text.substr(begin, i - begin);
    size_t lead = 0;
    while (lead < raw.size() && is_blank_char(raw[lead])) ++lead;
    raw.remove_prefix(lead);
    while (!raw.empty() && is_blank_char(raw.back())) raw.remove_suffix(1);
    // Empty items (",," or a trailing comma before a continuation) carry nothing.
    if (!raw.empty()) items.push_back(Item{raw, begin + lead});
    begin = i + 1;
  }
  return items;
}

Result<void> AliasesParser::classify_address(const LogicalLine& logical, const std::string& alias,
                                             const Item& item, size_t at, std::string_view local,
                                             size_t local_offset, bool quoted_local,
                                             AliasTarget* target) {
  std::string_view text = item.text;
  bool has_domain = at != std::string_view::npos;
  std::string domain;
  if (has_domain) {
    std::string_view written = text.substr(at + 1);
    if (auto problem = check_domain(written))
      return error(logical, item.offset + at + 1 + problem->offset,
                   "target \"" + std::string(text) + "\": " + problem->message);
    domain = lower_ascii(written);
  }
  if (!has_domain || domain == domain_) {
    // sendmail's "\name" delivers to the mailbox of name without alias expansion: for an
    // import both mean the local name.
    if (!quoted_local && !local.empty() && local[0] == '\\') {
      local.remove_prefix(1);
      ++local_offset;
    }
    if (auto problem = check_local_part(local)) {
      file_.not_imported.push_back(note(logical, local_offset,
                                        "alias \"" + alias + "\": target \"" + std::string(text) +
                                            "\" is not imported: " + problem->message));
      return {};
    }
    target->kind = AliasTargetKind::local;
    target->value = lower_ascii(local);
    return {};
  }
  if (local.empty())
    return error(logical, item.offset,
                 "target \"" + std::string(text) + "\" has an empty local part");
  if (!quoted_local) {
    if (auto problem = check_local_part(local))
      return error(logical, local_offset + problem->offset,
                   "target \"" + std::string(text) + "\": " + problem->message +
                       "; quote the local part if it is meant");
  }
  target->kind = AliasTargetKind::remote;
  target->value = std::string(text.substr(0, at + 1)) + domain;
  return {};
}

Result<void> AliasesParser::classify(const LogicalLine& logical, const std::string& alias,
                                     const Item& item, AliasTarget* target) {
  std::string_view text = item.text;
  std::string prefix = "alias \"" + alias + "\": ";
  auto listed = [&](std::string what) {
    file_.not_imported.push_back(note(logical, item.offset, prefix + std::move(what)));
  };
  std::string unquoted;
  bool quoted = text[0] == '"';
  size_t after_quote = 0;
  if (quoted) {
    after_quote = read_quoted(text, 0, &unquoted);
    if (after_quote < text.size() && text[after_quote] != '@')
      return error(
          logical, item.offset + after_quote,
          "unexpected text after the quoted string in target \"" + std::string(text) + "\"");
  }
  // Commands and paths take the rest of the item, spaces included: aliases(5) asks for
  // quotes around them, but sendmail-era files often go without, and nothing is ambiguous.
  std::string_view body = quoted && after_quote == text.size() ? std::string_view(unquoted) : text;
  if (body.starts_with('|')) {
    target->kind = AliasTargetKind::command;
    target->value = std::string(trim_blanks(body.substr(1)));
    if (target->value.empty()) return error(logical, item.offset, "the command after '|' is empty");
    listed("command \"" + std::string(body) +
           "\" is not imported (postcore does not run programs on delivery)");
    return {};
  }
  if (body.starts_with('/')) {
    target->kind = AliasTargetKind::file;
    target->value = std::string(body);
    listed("file " + std::string(body) +
           " is not imported (postcore delivers to mailboxes, not files)");
    return {};
  }
  if (body.size() >= kInclude.size() &&
      equals_ignoring_case(body.substr(0, kInclude.size()), kInclude)) {
    target->kind = AliasTargetKind::include;
    target->value = std::string(trim_blanks(body.substr(kInclude.size())));
    if (target->value.empty()) return error(logical, item.offset, "the :include: has no file name");
    listed(":include:" + target->value +
           " is not imported (postcore reads no include files; add the members to a group)");
    return {};
  }
  if (quoted) {
    size_t at = after_quote < text.size() ? after_quote : std::string_view::npos;
    return classify_address(logical, alias, item, at, unquoted, item.offset + 1, true, target);
  }

  std::string_view address = text;
  size_t address_offset = item.offset;
  // "Full Name <user@example.com>": the address is between the angle brackets.
  if (size_t open = text.rfind('<'); open != std::string_view::npos && text.back() == '>') {
    address = text.substr(open + 1, text.size() - open - 2);
    address_offset += open + 1;
  }
  for (size_t i = 0; i < address.size(); ++i) {
    if (!is_blank_char(address[i])) continue;
    size_t next = address.find_first_not_of(" \t", i);
    if (next != std::string_view::npos && address[next] == '#')
      return error(logical, address_offset + next,
                   "'#' starts a comment only at the beginning of a line (aliases(5))");
    return error(logical, address_offset + i,
                 "a space in target \"" + std::string(text) +
                     "\": separate targets with ',' and quote commands and file names");
  }
  size_t at = address.find('@');
  return classify_address(logical, alias, Item{address, address_offset}, at, address.substr(0, at),
                          address_offset, false, target);
}

Result<void> AliasesParser::entry(const LogicalLine& logical) {
  std::string written_name;
  auto after_colon = read_name(logical, &written_name);
  if (!after_colon) return after_colon.error();
  std::string name = lower_ascii(written_name);  // aliases(5): names fold to lower case
  auto items = split_items(logical, *after_colon);
  if (!items) return items.error();
  if (items->empty())
    return error(logical, logical.text().size(), "alias \"" + name + "\" has no targets");
  auto [earlier, first] = line_of_name_.emplace(name, logical.first_line().number);
  if (!first)
    return error(
        logical, 0,
        "alias \"" + name + "\" is already defined on line " + std::to_string(earlier->second));

  size_t first_note = file_.not_imported.size();
  AliasEntry entry{name, {}, logical.first_line().number};
  for (const Item& item : *items) {
    AliasTarget target;
    if (auto ok = classify(logical, name, item, &target); !ok) return ok.error();
    if (target.value.empty()) continue;
    auto [line, at] = logical.locate(item.offset);
    target.line = line->number;
    target.column = SourceText::column_of(*line, at);
    bool repeat = false;
    for (const AliasTarget& t : entry.targets)
      repeat = repeat || (t.kind == target.kind && t.value == target.value);
    if (!repeat) entry.targets.push_back(std::move(target));
  }
  if (auto problem = check_local_part(written_name)) {
    // The whole alias is listed; its targets need no notes of their own.
    file_.not_imported.resize(first_note);
    file_.not_imported.push_back(
        note(logical, 0, "alias \"" + written_name + "\" is not imported: " + problem->message));
    return {};
  }
  file_.entries.push_back(std::move(entry));
  return {};
}

}  // namespace

Result<AliasesFile> parse_aliases(InputFile file, const AliasesOptions& options) {
  if (auto problem = check_domain(options.domain))
    return make_error(EINVAL, "--domain \"" + options.domain + "\": " + problem->message);
  auto source = SourceText::open(file);
  if (!source) return source.error();
  AliasesParser parser(*source, lower_ascii(options.domain));
  LogicalLine logical;
  bool backslash_continues = false;
  for (const SourceLine& line : source->lines()) {
    // aliases(5): blank lines and lines whose first non-blank character is '#' are ignored,
    // also between a line and its continuation.
    if (is_blank(line.text) || is_comment(line.text)) {
      backslash_continues = false;
      continue;
    }
    std::string_view text = line.text;
    bool continues = backslash_continues || is_blank_char(text[0]);
    backslash_continues = text.back() == '\\';
    if (backslash_continues) text.remove_suffix(1);
    if (continues) {
      if (logical.empty())
        return source->error_at(line, 0,
                                "a line starting with a space continues the alias before it, "
                                "and there is none");
      logical.append(line, text);
      continue;
    }
    if (!logical.empty()) {
      if (auto ok = parser.entry(logical); !ok) return ok.error();
    }
    logical = LogicalLine();
    logical.append(line, text);
  }
  if (!logical.empty()) {
    if (auto ok = parser.entry(logical); !ok) return ok.error();
  }
  return parser.finish();
}

}  // namespace postcore::migrate
