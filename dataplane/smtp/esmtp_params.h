// The ESMTP parameters after the path in MAIL FROM and RCPT TO (RFC 5321 4.1.2
// Mail-parameters / Rcpt-parameters): SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8
// (RFC 6531), RET and ENVID (RFC 3461), AUTH (RFC 4954) on MAIL; NOTIFY and ORCPT (RFC 3461)
// on RCPT.
#pragma once

#include <cstdint>
#include <string_view>

#include "queue/envelope.h"

namespace postcore::smtp {

enum class ParamError : uint8_t {
  none,
  syntax,   // 501 5.5.4: malformed list, bad or repeated value
  unknown,  // 555 5.5.4: a keyword this server does not implement
};

struct ParamProblem {
  ParamError error = ParamError::none;
  std::string_view keyword;  // the parameter at fault, as sent
};

struct MailParams {
  bool size_given = false;
  uint64_t size = 0;  // saturates at UINT64_MAX, which is over any limit
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnRet ret = DsnRet::unspecified;
  std::string_view envid;
};

struct RcptParams {
  uint8_t notify = 0;  // DsnNotify bits
  std::string_view orcpt;
};

// text is what follows the path: empty, or one or more SP then the parameters. With
// auth_offered, MAIL's AUTH=<> or AUTH=<xtext> (RFC 4954 5) is checked and then ignored: this
// server does not take the identity a relaying client says it authenticated.
ParamProblem parse_mail_params(std::string_view text, bool auth_offered, MailParams* out);
ParamProblem parse_rcpt_params(std::string_view text, RcptParams* out);

}  // namespace postcore::smtp
