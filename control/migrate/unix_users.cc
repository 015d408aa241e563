#include "control/migrate/unix_users.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "control/migrate/mail_names.h"

namespace postcore::migrate {
namespace {

constexpr size_t kPasswdFields = 7;  // name:password:UID:GID:GECOS:directory:shell
constexpr size_t kShadowFields = 9;  // name:password:last:min:max:warn:inactive:expire:reserved
constexpr size_t kShadowExpireField = 7;

struct Field {
  std::string_view text;
  size_t offset = 0;  // in the line
};

std::vector<Field> split_at_colons(std::string_view text) {
  std::vector<Field> fields;
  size_t start = 0;
  for (;;) {
    size_t colon = text.find(':', start);
    size_t stop = colon == std::string_view::npos ? text.size() : colon;
    fields.push_back(Field{text.substr(start, stop - start), start});
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

bool is_nis_entry(std::string_view line) {
  return !line.empty() && (line[0] == '+' || line[0] == '-');
}

template <typename Number>
bool parse_number(std::string_view text, Number* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The offset at which a record with the wrong number of fields goes wrong: the start of the
// first field too many, or the end of a line that stops short.
size_t field_count_offset(const std::vector<Field>& fields, std::string_view line,
                          size_t expected) {
  return fields.size() > expected ? fields[expected].offset : line.size();
}

// shadow(5) and crypt(5): "!" before a hash locks it; "*", "!!", "*LK*" and similar never
// match any password. What is left must look like a crypt(3) string: modular crypt ($id$),
// traditional DES (13 characters) or BSDi extended DES ("_" and 19 characters).
std::optional<std::string> why_not_usable(std::string_view hash) {
  if (hash.empty()) return "the password is empty (anyone could log in)";
  if (hash[0] == '!') return "the login is locked ('!')";
  if (hash[0] == '*') return "the login is locked ('*')";
  auto is_salt_char = [](char c) {
    return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
  };
  bool des = hash.size() == 13;
  for (char c : hash) des = des && is_salt_char(c);
  bool bsdi = hash.size() == 20 && hash[0] == '_';
  if (hash[0] == '$' || des || bsdi) return std::nullopt;
  std::string why(1, '"');  // appended, not "\"" + ...: g++ 12 warns wrongly (-Wrestrict)
  why.append(hash).append("\" is not a password hash, so the login is disabled");
  return why;
}

bool is_login_shell(std::string_view shell) {
  size_t slash = shell.rfind('/');
  std::string_view base = slash == std::string_view::npos ? shell : shell.substr(slash + 1);
  return base != "nologin" && base != "false";
}

// The first comma-separated GECOS field; BSD's finger(1) reads '&' there as the login
// with its first letter in upper case.
std::string real_name_from(std::string_view gecos, std::string_view login) {
  std::string_view full = trim_blanks(gecos.substr(0, gecos.find(',')));
  std::string name;
  for (char c : full) {
    if (c != '&') {
      name += c;
      continue;
    }
    std::string capitalised(login);
    if (!capitalised.empty() && capitalised[0] >= 'a' && capitalised[0] <= 'z')
      capitalised[0] = static_cast<char>(capitalised[0] - 'a' + 'A');
    name += capitalised;
  }
  return name;
}

struct ShadowEntry {
  const SourceLine* line = nullptr;
  Field hash;
  std::optional<int64_t> expires_on_day;
  bool used = false;
};

using ShadowTable = std::unordered_map<std::string, ShadowEntry>;

// Fills `table` (an out-parameter rather than a Result<ShadowTable>: g++ 12 warns wrongly
// about freeing the map held in a std::variant).
Result<void> read_shadow(const SourceText& source, ShadowTable* table) {
  static constexpr std::string_view kNumericNames[] = {
      "date of last password change", "minimum password age",       "maximum password age",
      "password warning period",      "password inactivity period", "account expiration date"};
  for (const SourceLine& line : source.lines()) {
    if (is_blank(line.text) || is_comment(line.text) || is_nis_entry(line.text)) continue;
    auto fields = split_at_colons(line.text);
    if (fields.size() != kShadowFields)
      return source.error_at(line, field_count_offset(fields, line.text, kShadowFields),
                             "a shadow(5) line has 9 fields separated by ':', this one has " +
                                 std::to_string(fields.size()));
    if (fields[0].text.empty()) return source.error_at(line, 0, "the login name is empty");
    for (size_t i = 2; i <= kShadowExpireField; ++i) {
      int64_t value = 0;
      if (!fields[i].text.empty() && !parse_number(fields[i].text, &value))
        return source.error_at(line, fields[i].offset,
                               "field " + std::to_string(i + 1) + " (" +
                                   std::string(kNumericNames[i - 2]) + ") is not a number");
    }
    ShadowEntry entry{&line, fields[1], std::nullopt, false};
    int64_t expire = 0;
    if (parse_number(fields[kShadowExpireField].text, &expire)) entry.expires_on_day = expire;
    auto [it, inserted] = table->emplace(std::string(fields[0].text), entry);
    if (!inserted)
      return source.error_at(line, 0,
                             "login \"" + std::string(fields[0].text) + "\" is already on line " +
                                 std::to_string(it->second.line->number));
  }
  return {};
}

class PasswdReader {
 public:
  PasswdReader(const SourceText& passwd, const SourceText* shadow_source, ShadowTable* shadow,
               const UnixUsersOptions& options, std::string domain)
      : passwd_(passwd),
        shadow_source_(shadow_source),
        shadow_(shadow),
        options_(options),
        domain_(std::move(domain)) {}

  Result<void> read_line(const SourceLine& line);
  UnixUsers finish();

 private:
  void skip(std::string_view login, SkipReason reason, ImportNote note) {
    users_.skipped.push_back(SkippedUser{std::string(login), reason, std::move(note)});
  }

  const SourceText& passwd_;
  const SourceText* shadow_source_;
  ShadowTable* shadow_;
  const UnixUsersOptions& options_;
  std::string domain_;
  UnixUsers users_;
  std::unordered_map<std::string, uint32_t> line_of_login_;
  std::unordered_map<std::string, uint32_t> line_of_address_;
};

Result<void> PasswdReader::read_line(const SourceLine& line) {
  if (is_nis_entry(line.text)) {
    skip(line.text.substr(0, line.text.find(':')), SkipReason::nis_entry,
         passwd_.note_at(line, 0, "NIS compat entry: not imported"));
    return {};
  }
  auto fields = split_at_colons(line.text);
  if (fields.size() != kPasswdFields)
    return passwd_.error_at(line, field_count_offset(fields, line.text, kPasswdFields),
                            "a passwd(5) line has 7 fields separated by ':', this one has " +
                                std::to_string(fields.size()));
  std::string_view login = fields[0].text;
  if (login.empty()) return passwd_.error_at(line, 0, "the login name is empty");
  uint32_t uid = 0, gid = 0;
  if (!parse_number(fields[2].text, &uid))
    return passwd_.error_at(line, fields[2].offset, "field 3 (UID) is not a number");
  if (!parse_number(fields[3].text, &gid))
    return passwd_.error_at(line, fields[3].offset, "field 4 (GID) is not a number");
  auto [seen, first] = line_of_login_.emplace(std::string(login), line.number);
  if (!first)
    return passwd_.error_at(
        line, 0,
        "login \"" + std::string(login) + "\" is already on line " + std::to_string(seen->second));

  std::string who = "user \"" + std::string(login) + "\" ";
  if (uid < options_.min_uid) {
    skip(login, SkipReason::system_user,
         passwd_.note_at(line, fields[2].offset,
                         who + "skipped: system user (UID " + std::to_string(uid) +
                             " is below --min-uid " + std::to_string(options_.min_uid) + ")"));
    return {};
  }
  std::string_view shell = trim_blanks(fields[6].text);
  if (!is_login_shell(shell)) {
    skip(login, SkipReason::no_login_shell,
         passwd_.note_at(line, fields[6].offset,
                         who + "skipped: shell " + std::string(shell) + " does not allow login"));
    return {};
  }
  if (auto problem = check_local_part(login)) {
    skip(login, SkipReason::not_an_address,
         passwd_.note_at(line, problem->offset,
                         who + "skipped: the login cannot be an address: " + problem->message));
    return {};
  }

  UnixAccount account;
  account.local_part = lower_ascii(login);
  account.domain = domain_;
  account.uid = uid;
  account.passwd_line = line.number;
  account.real_name = real_name_from(fields[4].text, login);
  const SourceText* hash_source = &passwd_;
  const SourceLine* hash_line = &line;
  Field hash = fields[1];
  if (hash.text == "x") {
    auto entry = shadow_ ? shadow_->find(std::string(login)) : ShadowTable::iterator{};
    if (!shadow_ || entry == shadow_->end()) {
      skip(login, SkipReason::no_shadow_entry,
           passwd_.note_at(line, fields[1].offset,
                           who + "skipped: the password is in the shadow file, " +
                               (shadow_ ? "which has no line for this user"
                                        : "which was not given (--shadow)")));
      return {};
    }
    entry->second.used = true;
    hash_source = shadow_source_;
    hash_line = entry->second.line;
    hash = entry->second.hash;
    account.shadow_line = hash_line->number;
    account.expires_on_day = entry->second.expires_on_day;
  }
  if (auto why = why_not_usable(hash.text)) {
    bool empty = hash.text.empty();
    skip(login, empty ? SkipReason::empty_password : SkipReason::locked,
         hash_source->note_at(*hash_line, hash.offset, who + "skipped: " + *why));
    return {};
  }
  account.password_hash = std::string(hash.text);
  auto [earlier, unique] = line_of_address_.emplace(account.local_part, line.number);
  if (!unique)
    return passwd_.error_at(line, 0,
                            who + "and the user on line " + std::to_string(earlier->second) +
                                " would both be account " + account.address() +
                                " (names are not case-sensitive in addresses)");
  users_.accounts.push_back(std::move(account));
  return {};
}

UnixUsers PasswdReader::finish() {
  if (shadow_) {
    std::vector<const ShadowEntry*> unused;
    for (const auto& [login, entry] : *shadow_)
      if (!entry.used && !line_of_login_.count(login)) unused.push_back(&entry);
    std::sort(unused.begin(), unused.end(), [](const ShadowEntry* a, const ShadowEntry* b) {
      return a->line->number < b->line->number;
    });
    for (const ShadowEntry* entry : unused)
      users_.warnings.push_back(shadow_source_->note_at(
          *entry->line, 0, "the passwd file has no user for this shadow line; ignored"));
  }
  return std::move(users_);
}

}  // namespace

Result<UnixUsers> parse_unix_users(InputFile passwd, std::optional<InputFile> shadow,
                                   const UnixUsersOptions& options) {
  if (auto problem = check_domain(options.domain))
    return make_error(EINVAL, "--domain \"" + options.domain + "\": " + problem->message);
  auto passwd_source = SourceText::open(passwd);
  if (!passwd_source) return passwd_source.error();
  std::optional<SourceText> shadow_source;
  ShadowTable shadow_table;
  if (shadow) {
    auto opened = SourceText::open(*shadow);
    if (!opened) return opened.error();
    shadow_source = std::move(*opened);
    if (auto ok = read_shadow(*shadow_source, &shadow_table); !ok) return ok.error();
  }
  PasswdReader reader(*passwd_source, shadow_source ? &*shadow_source : nullptr,
                      shadow ? &shadow_table : nullptr, options, lower_ascii(options.domain));
  for (const SourceLine& line : passwd_source->lines()) {
    if (is_blank(line.text) || is_comment(line.text)) continue;
    if (auto ok = reader.read_line(line); !ok) return ok.error();
  }
  return reader.finish();
}

}  // namespace postcore::migrate
