#include "dataplane/smtp/sasl.h"

#include <cstdint>

#include "dataplane/smtp/utf8.h"

namespace postcore::smtp {
namespace {

constexpr size_t kMaxSaslField = 255;  // RFC 4616 2

}  // namespace

bool valid_sasl_field(std::string_view text) {
  if (text.empty() || text.size() > kMaxSaslField) return false;
  for (size_t i = 0; i < text.size();) {
    const auto octet = static_cast<unsigned char>(text[i]);
    if (octet >= 0x80) {
      const size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0) return false;
      i += length;
    } else if (octet == '\0' || octet == '\r' || octet == '\n') {
      return false;
    } else {
      ++i;
    }
  }
  return true;
}

bool parse_plain(std::string_view message, PlainCredentials* out) {
  const size_t first = message.find('\0');
  if (first == std::string_view::npos) return false;
  const size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return false;
  out->authzid = message.substr(0, first);
  out->authcid = message.substr(first + 1, second - first - 1);
  out->password = message.substr(second + 1);  // a third NUL makes it invalid
  return (out->authzid.empty() || valid_sasl_field(out->authzid)) &&
         valid_sasl_field(out->authcid) && valid_sasl_field(out->password);
}

}  // namespace postcore::smtp
