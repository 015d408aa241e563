#include "dataplane/smtp/esmtp_params.h"

#include <limits>

#include "dataplane/smtp/ascii.h"
#include "dataplane/smtp/utf8.h"

namespace postcore::smtp {
namespace {

constexpr size_t kMaxEnvid = 100;  // RFC 3461 4.4
constexpr size_t kMaxOrcpt = 500;  // RFC 3461 4.2

struct Param {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// Splits "KEY[=VALUE]" items separated by spaces. Calls take(param) for each and stops at the
// first problem it returns.
template <typename Take>
ParamProblem for_each_param(std::string_view text, Take take) {
  if (!text.empty() && text.front() != ' ') return {ParamError::syntax, text};
  for (;;) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty()) return {};
    const size_t space = text.find(' ');
    const std::string_view item = text.substr(0, space);
    text.remove_prefix(item.size());
    Param param;
    const size_t equals = item.find('=');
    param.keyword = item.substr(0, equals);
    if (equals != std::string_view::npos) {
      param.value = item.substr(equals + 1);
      param.has_value = true;
    }
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    if (param.keyword.empty() || param.keyword.front() == '-') {
      return {ParamError::syntax, param.keyword};
    }
    for (const char c : param.keyword) {
      if (!is_alnum(static_cast<unsigned char>(c)) && c != '-') {
        return {ParamError::syntax, param.keyword};
      }
    }
    const ParamError error = take(param);
    if (error != ParamError::none) return {error, param.keyword};
  }
}

bool parse_decimal(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(static_cast<unsigned char>(c))) return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      value = std::numeric_limits<uint64_t>::max();
    } else {
      value = value * 10 + digit;
    }
  }
  *out = value;
  return true;
}

bool is_upper_hex(char c) {
  return is_digit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F');
}

// xtext (RFC 3461 4): "!".."~" except "+" and "=", or "+" and two upper-case hex digits.
// allow_utf8 admits the UTF-8 that RFC 6533 utf-8-addr-xtext allows in an ORCPT of type
// utf-8.
bool valid_xtext(std::string_view text, bool allow_utf8) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size() || !is_upper_hex(text[i + 1]) || !is_upper_hex(text[i + 2])) {
        return false;
      }
      i += 3;
    } else if (c >= 0x80) {
      const size_t length = allow_utf8 ? utf8_sequence_length(text.substr(i)) : 0;
      if (length == 0) return false;
      i += length;
    } else if (c >= '!' && c <= '~' && c != '=') {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY.
bool parse_notify(std::string_view text, uint8_t* out) {
  if (iequals(text, "NEVER")) {
    *out = notify_never;
    return true;
  }
  uint8_t bits = 0;
  for (;;) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (iequals(item, "SUCCESS")) {
      bits |= notify_success;
    } else if (iequals(item, "FAILURE")) {
      bits |= notify_failure;
    } else if (iequals(item, "DELAY")) {
      bits |= notify_delay;
    } else {
      return false;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  *out = bits;
  return true;
}

// ORCPT=addr-type ";" xtext, addr-type an atom such as rfc822 or utf-8.
bool valid_orcpt(std::string_view text) {
  if (text.size() > kMaxOrcpt) return false;
  const size_t semicolon = text.find(';');
  if (semicolon == 0 || semicolon == std::string_view::npos) return false;
  const std::string_view type = text.substr(0, semicolon);
  for (const char c : type) {
    if (!is_alnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return valid_xtext(text.substr(semicolon + 1), iequals(type, "utf-8"));
}

}  // namespace

ParamProblem parse_mail_params(std::string_view text, bool auth_offered, MailParams* out) {
  *out = MailParams{};
  bool seen_body = false, seen_ret = false, seen_envid = false, seen_auth = false;
  return for_each_param(text, [&](const Param& p) {
    if (iequals(p.keyword, "SIZE")) {
      if (out->size_given || !parse_decimal(p.value, &out->size)) return ParamError::syntax;
      out->size_given = true;
    } else if (iequals(p.keyword, "BODY")) {
      if (seen_body) return ParamError::syntax;
      seen_body = true;
      if (iequals(p.value, "7BIT")) {
        out->body = BodyType::seven_bit;
      } else if (iequals(p.value, "8BITMIME")) {
        out->body = BodyType::eight_bit_mime;
      } else if (iequals(p.value, "BINARYMIME")) {
        out->body = BodyType::binary_mime;
      } else {
        return ParamError::syntax;
      }
    } else if (iequals(p.keyword, "SMTPUTF8")) {
      if (out->smtputf8 || p.has_value) return ParamError::syntax;
      out->smtputf8 = true;
    } else if (iequals(p.keyword, "RET")) {
      if (seen_ret) return ParamError::syntax;
      seen_ret = true;
      if (iequals(p.value, "FULL")) {
        out->ret = DsnRet::full;
      } else if (iequals(p.value, "HDRS")) {
        out->ret = DsnRet::hdrs;
      } else {
        return ParamError::syntax;
      }
    } else if (iequals(p.keyword, "ENVID")) {
      if (seen_envid || p.value.size() > kMaxEnvid || !valid_xtext(p.value, false)) {
        return ParamError::syntax;
      }
      seen_envid = true;
      out->envid = p.value;
    } else if (auth_offered && iequals(p.keyword, "AUTH")) {
      // "<>" (identity not known) is xtext too.
      if (seen_auth || !valid_xtext(p.value, false)) return ParamError::syntax;
      seen_auth = true;
    } else {
      return ParamError::unknown;
    }
    return ParamError::none;
  });
}

ParamProblem parse_rcpt_params(std::string_view text, RcptParams* out) {
  *out = RcptParams{};
  bool seen_orcpt = false;
  return for_each_param(text, [&](const Param& p) {
    if (iequals(p.keyword, "NOTIFY")) {
      if (out->notify != 0 || !parse_notify(p.value, &out->notify)) return ParamError::syntax;
    } else if (iequals(p.keyword, "ORCPT")) {
      if (seen_orcpt || !valid_orcpt(p.value)) return ParamError::syntax;
      seen_orcpt = true;
      out->orcpt = p.value;
    } else {
      return ParamError::unknown;
    }
    return ParamError::none;
  });
}

}  // namespace postcore::smtp
