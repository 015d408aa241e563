#include "control/migrate/quota.h"

#include <cerrno>
#include <limits>

#include "control/migrate/mail_names.h"

namespace postcore::migrate {
namespace {

constexpr std::string_view kForms =
    "write a whole number of kilobytes, or one with K, M or G "
    "(10K, 120K, 1M, 2G), or \"unlimited\"";

Error bad(std::string_view text, std::string_view why) {
  return make_error(EINVAL, "quota \"" + std::string(text) + "\" " + std::string(why) + ": " +
                                std::string(kForms));
}

}  // namespace

Result<Quota> parse_quota(std::string_view text) {
  if (equals_ignoring_case(text, "unlimited")) return Quota{0, true};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad(text, "is not a number");
  std::string_view suffix = text.substr(digits);
  uint64_t unit = 0;
  if (suffix.empty() || suffix == "K" || suffix == "k") {
    unit = 1ull << 10;  // CommuniGate's plain numbers are kilobytes
  } else if (suffix == "M" || suffix == "m") {
    unit = 1ull << 20;
  } else if (suffix == "G" || suffix == "g") {
    unit = 1ull << 30;
  } else if (suffix[0] == '.' || suffix[0] == ',') {
    return bad(text, "is not a whole number");
  } else {
    return bad(text, "has an unknown unit");
  }
  uint64_t value = 0;
  for (size_t i = 0; i < digits; ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      return bad(text, "is too large");
    value = value * 10 + digit;
  }
  // Zero means "no mail at all" to some servers and "no limit" to others (Dovecot, for
  // one): an import must not guess which the old server meant.
  if (value == 0)
    return make_error(EINVAL, "quota \"" + std::string(text) +
                                  "\" is ambiguous (no space, or no limit?): write \"unlimited\" "
                                  "or a size, or leave the field empty for the domain default");
  if (value > std::numeric_limits<uint64_t>::max() / unit) return bad(text, "is too large");
  return Quota{value * unit, false};
}

}  // namespace postcore::migrate
