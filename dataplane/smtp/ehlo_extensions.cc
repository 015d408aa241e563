#include "dataplane/smtp/ehlo_extensions.h"

#include <iterator>
#include <string_view>

namespace postcore::smtp {
namespace {

struct Extension {
  std::string_view keyword;
  // Appends " <parameters>" when the keyword takes any; nullptr when it takes none.
  void (*append_parameters)(const Config&, std::string&);
  // Whether this server offers it under config; nullptr for always.
  bool (*offered)(const Config&);
};

void append_size(const Config& config, std::string& out) {
  out += ' ';
  out += std::to_string(config.limits.max_message_size);
}

void append_auth_mechanisms(const Config&, std::string& out) {
  out += " PLAIN LOGIN";
}

bool auth_offered(const Config& config) {
  return config.auth.offered;
}

constexpr Extension kExtensions[] = {
    {"PIPELINING", nullptr, nullptr},                // RFC 2920
    {"SIZE", append_size, nullptr},                  // RFC 1870
    {"AUTH", append_auth_mechanisms, auth_offered},  // RFC 4954
    {"8BITMIME", nullptr, nullptr},                  // RFC 6152
    {"ENHANCEDSTATUSCODES", nullptr, nullptr},       // RFC 2034
    {"CHUNKING", nullptr, nullptr},                  // RFC 3030
    {"SMTPUTF8", nullptr, nullptr},                  // RFC 6531
    {"DSN", nullptr, nullptr},                       // RFC 3461
    {"HELP", nullptr, nullptr},                      // RFC 5321 4.1.1.8
};

}  // namespace

void append_ehlo_reply(const Config& config, std::string& out) {
  out += "250-";
  out += config.hostname;
  out += "\r\n";
  size_t last = 0;
  for (size_t i = 0; i < std::size(kExtensions); ++i) {
    if (kExtensions[i].offered == nullptr || kExtensions[i].offered(config)) last = i;
  }
  for (size_t i = 0; i <= last; ++i) {
    const Extension& extension = kExtensions[i];
    if (extension.offered != nullptr && !extension.offered(config)) continue;
    out += i == last ? "250 " : "250-";
    out += extension.keyword;
    if (extension.append_parameters != nullptr) extension.append_parameters(config, out);
    out += "\r\n";
  }
}

}  // namespace postcore::smtp
