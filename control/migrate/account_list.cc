#include "control/migrate/account_list.h"

#include <cerrno>
#include <unordered_map>
#include <utility>

#include "control/migrate/mail_names.h"

namespace postcore::migrate {
namespace {

constexpr std::string_view kNoBreakSpace = "\xC2\xA0";
constexpr std::string_view kNoBreakSpaceMessage =
    "fields are separated by no-break spaces (U+00A0), as happens when a sample is copied "
    "from a web page; separate them with tabs";
constexpr size_t kListedLines = 10;

enum class Field { name, password, new_password, unix_password, real_name, quota, other, unnamed };

struct FieldName {
  std::string_view title;
  Field field;
};

// Matched without regard to case: hand-made lists are not consistent about it.
constexpr FieldName kFields[] = {
    {"Name", Field::name},
    {"Password", Field::password},
    {"NewPassword", Field::new_password},
    {"UnixPassword", Field::unix_password},
    {"RealName", Field::real_name},
    {"Limit", Field::quota},
    {"Quota", Field::quota},
};

Field field_named(std::string_view title) {
  if (title.empty()) return Field::unnamed;
  for (const auto& f : kFields)
    if (equals_ignoring_case(f.title, title)) return f.field;
  return Field::other;
}

struct Cell {
  std::string_view text;
  size_t offset = 0;  // in the line
};

std::vector<Cell> split_at_tabs(std::string_view text) {
  std::vector<Cell> cells;
  size_t start = 0;
  for (;;) {
    size_t tab = text.find('\t', start);
    size_t stop = tab == std::string_view::npos ? text.size() : tab;
    cells.push_back(Cell{text.substr(start, stop - start), start});
    if (tab == std::string_view::npos) return cells;
    start = tab + 1;
  }
}

// The offset of the trimmed text within the cell.
size_t leading_blanks(std::string_view text) {
  size_t first = text.find_first_not_of(" \t");
  return first == std::string_view::npos ? 0 : first;
}

struct Column {
  Field field = Field::other;
  std::string title;  // as written, trimmed
};

class AccountListParser {
 public:
  AccountListParser(const SourceText& source, std::optional<std::string> domain)
      : source_(source), domain_(std::move(domain)) {}

  Result<void> header(const SourceLine& line);
  Result<void> row(const SourceLine& line);
  bool have_header() const { return header_line_ != nullptr; }
  AccountList finish();

 private:
  Error error(const SourceLine& line, const Cell& cell, std::string_view message) const {
    return source_.error_at(line, cell.offset + leading_blanks(cell.text), message);
  }
  Result<void> set_address(const SourceLine& line, const Cell& cell, AccountListEntry& entry);

  const SourceText& source_;
  std::optional<std::string> domain_;
  const SourceLine* header_line_ = nullptr;
  std::vector<Column> columns_;
  size_t name_column_ = 0;
  AccountList list_;
  std::unordered_map<std::string, uint32_t> line_of_address_;
  std::vector<uint32_t> lines_without_password_;
};

Result<void> AccountListParser::header(const SourceLine& line) {
  header_line_ = &line;
  if (size_t nbsp = line.text.find(kNoBreakSpace); nbsp != std::string_view::npos)
    return source_.error_at(line, nbsp, kNoBreakSpaceMessage);
  if (line.text.find('\t') == std::string_view::npos) {
    size_t space = trim_blanks(line.text).find(' ');
    if (space != std::string_view::npos)
      return source_.error_at(line, leading_blanks(line.text) + space,
                              "the header has no tab: fields must be separated by tabs, "
                              "not spaces");
  }
  auto cells = split_at_tabs(line.text);
  // Spreadsheets leave tabs after the last field; only those columns may have no name.
  size_t named = cells.size();
  while (named > 0 && trim_blanks(cells[named - 1].text).empty()) --named;
  int quota_column = -1;
  bool have_name = false;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string_view title = trim_blanks(cells[i].text);
    if (title.empty() && i < named)
      return source_.error_at(line, cells[i].offset,
                              "header field " + std::to_string(i + 1) + " has no name");
    Column column{field_named(title), std::string(title)};
    for (size_t j = 0; j < columns_.size(); ++j)
      if (!title.empty() && equals_ignoring_case(columns_[j].title, title))
        return error(line, cells[i],
                     "field \"" + column.title + "\" appears twice in the header (also field " +
                         std::to_string(j + 1) + ")");
    if (column.field == Field::quota) {
      if (quota_column >= 0)
        return error(line, cells[i],
                     "fields \"" + columns_[quota_column].title + "\" and \"" + column.title +
                         "\" both give the quota; keep one");
      quota_column = static_cast<int>(i);
    }
    if (column.field == Field::name) {
      have_name = true;
      name_column_ = i;
    }
    if (column.field == Field::other) {
      list_.ignored_fields.push_back(column.title);
      list_.warnings.push_back(source_.note_at(
          line, cells[i].offset + leading_blanks(cells[i].text),
          "field \"" + column.title + "\" is not imported; its values are ignored"));
    }
    columns_.push_back(std::move(column));
  }
  if (!have_name)
    return source_.error_at(line, 0,
                            "the header has no Name field; the first line of an account list "
                            "names the fields, separated by tabs, and must include Name");
  return {};
}

Result<void> AccountListParser::set_address(const SourceLine& line, const Cell& cell,
                                            AccountListEntry& entry) {
  std::string_view name = trim_blanks(cell.text);
  size_t base = cell.offset + leading_blanks(cell.text);
  std::string quoted = "Name \"" + std::string(name) + "\": ";
  if (name.empty()) return error(line, cell, "Name is empty");
  size_t at = name.find('@');
  std::string_view local = name.substr(0, at);
  if (auto problem = check_local_part(local))
    return source_.error_at(line, base + problem->offset, quoted + problem->message);
  entry.local_part = lower_ascii(local);
  if (at == std::string_view::npos) {
    if (!domain_)
      return error(line, cell,
                   quoted + "no domain: write NAME@DOMAIN, or give the domain with --domain");
    entry.domain = *domain_;
  } else {
    std::string_view domain = name.substr(at + 1);
    if (auto problem = check_domain(domain))
      return source_.error_at(line, base + at + 1 + problem->offset, quoted + problem->message);
    entry.domain = lower_ascii(domain);
    if (domain_ && entry.domain != *domain_)
      return source_.error_at(
          line, base + at + 1,
          quoted + "the domain " + entry.domain + " is not " + *domain_ + " (--domain)");
  }
  auto [it, inserted] = line_of_address_.emplace(entry.address(), line.number);
  if (!inserted)
    return error(line, cell,
                 quoted + "account " + entry.address() + " is already on line " +
                     std::to_string(it->second));
  return {};
}

Result<void> AccountListParser::row(const SourceLine& line) {
  auto cells = split_at_tabs(line.text);
  if (cells.size() == 1 && columns_.size() > 1) {
    if (size_t nbsp = line.text.find(kNoBreakSpace); nbsp != std::string_view::npos)
      return source_.error_at(line, nbsp, kNoBreakSpaceMessage);
  }
  for (size_t i = columns_.size(); i < cells.size(); ++i)
    if (!trim_blanks(cells[i].text).empty())
      return source_.error_at(
          line, cells[i].offset,
          "the line has " + std::to_string(cells.size()) + " fields but the header (line " +
              std::to_string(header_line_->number) + ") has " + std::to_string(columns_.size()));
  if (cells.size() <= name_column_)
    return source_.error_at(line, line.text.size(),
                            "Name is empty: the line has " + std::to_string(cells.size()) +
                                " field(s) and Name is field " + std::to_string(name_column_ + 1));
  AccountListEntry entry;
  entry.line = line.number;
  std::string new_password;
  for (size_t i = 0; i < columns_.size() && i < cells.size(); ++i) {
    const Cell& cell = cells[i];
    const Column& column = columns_[i];
    switch (column.field) {
      case Field::name:
        if (auto ok = set_address(line, cell, entry); !ok) return ok.error();
        break;
      case Field::password:
        entry.password = std::string(cell.text);
        break;
      case Field::new_password:
        new_password = std::string(cell.text);
        break;
      case Field::unix_password:
        entry.password_hash = std::string(trim_blanks(cell.text));
        break;
      case Field::real_name:
        entry.real_name = std::string(trim_blanks(cell.text));
        break;
      case Field::quota: {
        std::string_view text = trim_blanks(cell.text);
        if (text.empty()) break;
        auto quota = parse_quota(text);
        if (!quota) return error(line, cell, column.title + ": " + quota.error().message);
        entry.quota = *quota;
        break;
      }
      case Field::unnamed:
        if (!trim_blanks(cell.text).empty())
          return error(line, cell, "a value under a header column that has no name");
        break;
      case Field::other:
        break;
    }
  }
  if (!new_password.empty()) entry.password = std::move(new_password);
  if (entry.password.empty() && entry.password_hash.empty())
    lines_without_password_.push_back(line.number);
  list_.accounts.push_back(std::move(entry));
  return {};
}

AccountList AccountListParser::finish() {
  if (!lines_without_password_.empty()) {
    std::string lines;
    for (size_t i = 0; i < lines_without_password_.size() && i < kListedLines; ++i)
      lines += (i ? ", " : "") + std::to_string(lines_without_password_[i]);
    if (lines_without_password_.size() > kListedLines) lines += ", ...";
    list_.warnings.push_back(ImportNote{
        std::string(source_.file_name()), lines_without_password_.front(), 1,
        std::to_string(lines_without_password_.size()) +
            " account(s) have no Password, NewPassword or UnixPassword and cannot log in until "
            "one is set (lines " +
            lines + ")"});
  }
  return std::move(list_);
}

}  // namespace

Result<AccountList> parse_account_list(InputFile file, const AccountListOptions& options) {
  std::optional<std::string> domain;
  if (options.domain) {
    if (auto problem = check_domain(*options.domain))
      return make_error(EINVAL, "--domain \"" + *options.domain + "\": " + problem->message);
    domain = lower_ascii(*options.domain);
  }
  auto source = SourceText::open(file);
  if (!source) return source.error();
  AccountListParser parser(*source, domain);
  for (const SourceLine& line : source->lines()) {
    if (is_blank(line.text) || is_comment(line.text)) continue;
    auto ok = parser.have_header() ? parser.row(line) : parser.header(line);
    if (!ok) return ok.error();
  }
  if (!parser.have_header())
    return make_error(EINVAL, std::string(file.name) +
                                  ":1:1: the file is empty; an account list starts with a "
                                  "line of field names separated by tabs");
  return parser.finish();
}

}  // namespace postcore::migrate
