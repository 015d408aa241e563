// Table cases of SMTP AUTH (RFC 4954, PLAIN and LOGIN); run by session_table_test.cc
// like every other case, whole and at every split of the input.
#include "tests/unit/smtp/session_table.h"

namespace postcore::smtp::smtp_test {
namespace {

// --- AUTH. The base64 vectors were made with Python's base64 module, not by this code. ---

const std::string kEhloAuth = ehlo_reply(50ull << 20, true);
// PLAIN "\0alice@example.com\0secret"
const std::string kAuthAlice = "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\n";
// PLAIN "\0bob@example.com\0wrong"
const std::string kAuthBob = "AUTH PLAIN AGJvYkBleGFtcGxlLmNvbQB3cm9uZw==\r\n";
const std::string kLoginUser = "YWxpY2VAZXhhbXBsZS5jb20=\r\n";  // "alice@example.com"
const std::string kLoginPassword = "c2VjcmV0\r\n";              // "secret"
const std::string kLogAlice = "AUTH |alice@example.com|secret";
const std::string kLogBob = "AUTH |bob@example.com|wrong";
const std::string kBeginAlice = kBegin + " AUTH=alice@example.com";
const std::string kPlainGo = "334 \r\n";
const std::string kUsername = "334 VXNlcm5hbWU6\r\n";  // "Username:"
const std::string kPassword = "334 UGFzc3dvcmQ6\r\n";  // "Password:"
const std::string kAuthOk = "235 2.7.0 Authentication successful\r\n";
const std::string kAuthInvalid = "535 5.7.8 Authentication credentials invalid\r\n";
const std::string kAuthTempfail = "454 4.7.0 Temporary authentication failure\r\n";
const std::string kAuthRequired = "530 5.7.0 Authentication required\r\n";
const std::string kAuthSyntax = "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n";
const std::string kCannotDecode = "501 5.5.2 Cannot decode response\r\n";
const std::string kMalformed = "501 5.5.2 Malformed authentication response\r\n";
const std::string kCancelled = "501 5.7.0 Authentication cancelled\r\n";
const std::string kAlreadyAuthenticated = "503 5.5.1 Already authenticated\r\n";
const std::string kNotImplemented = "502 5.5.1 Command not implemented\r\n";

std::string repeated(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

void offer_auth(Config& config, RecordingHost&) {
  config.auth.offered = true;
}
void require_auth(Config& config, RecordingHost&) {
  config.auth.offered = true;
  config.auth.required = true;
}
void offer_auth_many_errors(Config& config, RecordingHost&) {
  config.auth.offered = true;
  config.limits.max_errors = 100;
}
// bob's password is wrong; carol's cannot be checked now.
void offer_auth_with_results(Config& config, RecordingHost& host) {
  config.auth.offered = true;
  host.auth_results["bob@example.com"] = AuthResult::invalid;
  host.auth_results["carol@example.com"] = AuthResult::temporary_failure;
}

}  // namespace

std::vector<SessionCase> auth_cases() {
  return {
      {.name = "auth_ehlo_offers_it", .input = kEhlo, .output = kEhloAuth, .setup = offer_auth},
      {.name = "auth_not_offered_is_not_implemented",
       .input = kEhlo + kAuthAlice + "auth login\r\n" + kLoginPassword +
                "MAIL FROM:<a@example.org> AUTH=<>\r\n",
       .output = ehlo_reply() + kNotImplemented + kNotImplemented + kUnknown +
                 "555 5.5.4 Unsupported parameter: AUTH\r\n"},
      {.name = "auth_plain_initial_response",
       .input = kEhlo + kAuthAlice + kMailRcpt + "DATA\r\nx\r\n.\r\n",
       .output = kEhloAuth + kAuthOk + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kLogAlice, kAskB, kBeginAlice, data("Q1", "x\r\n"), "END", "COMMIT Q1"},
       .setup = offer_auth},
      {.name = "auth_plain_continuation",
       .input = kEhlo + "auth plain\r\nAGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\nNOOP\r\n",
       .output = kEhloAuth + kPlainGo + kAuthOk + kOk,
       .log = {kLogAlice},
       .setup = offer_auth},
      {.name = "auth_plain_authzid",
       // "admin@example.com\0alice@example.com\0secret"
       .input = kEhlo + "AUTH PLAIN YWRtaW5AZXhhbXBsZS5jb20AYWxpY2VAZXhhbXBsZS5jb20Ac2VjcmV0\r\n" +
                "RSET\r\nQUIT\r\n",
       .output = kEhloAuth + kAuthOk + kOk + kBye,
       .log = {"AUTH admin@example.com|alice@example.com|secret"},
       .setup = offer_auth,
       .closing = true},
      {.name = "auth_plain_utf8",
       .input = kEhlo + "AUTH PLAIN AGrDtnJnAHPDqWNyZXQ=\r\n",  // "\0jörg\0sécret"
       .output = kEhloAuth + kAuthOk,
       .log = {"AUTH |j\xC3\xB6rg|s\xC3\xA9"
               "cret"},
       .setup = offer_auth},
      {.name = "auth_login",
       .input = kEhlo + "AUTH LOGIN\r\n" + kLoginUser + kLoginPassword + "NOOP\r\n",
       .output = kEhloAuth + kUsername + kPassword + kAuthOk + kOk,
       .log = {kLogAlice},
       .setup = offer_auth},
      {.name = "auth_login_initial_response",
       .input = kEhlo + "AUTH login " + kLoginUser + kLoginPassword,
       .output = kEhloAuth + kPassword + kAuthOk,
       .log = {kLogAlice},
       .setup = offer_auth},
      // "=" is an empty initial response: decoded, it is no PLAIN message and no username.
      // As a later response it is not base64; an empty line is the empty response.
      {.name = "auth_empty_responses",
       .input = kEhlo + "AUTH PLAIN =\r\nAUTH LOGIN =\r\nAUTH PLAIN ==\r\nAUTH PLAIN\r\n=\r\n" +
                "AUTH PLAIN\r\n\r\nAUTH LOGIN " + kLoginUser + "\r\n",
       .output = kEhloAuth + kMalformed + kMalformed + kCannotDecode + kPlainGo + kCannotDecode +
                 kPlainGo + kMalformed + kPassword + kMalformed,
       .setup = offer_auth},
      // "*" cancels a response to a challenge; as an initial response it is not base64.
      {.name = "auth_cancel_at_each_step",
       .input = kEhlo + "AUTH PLAIN\r\n*\r\nAUTH LOGIN\r\n*\r\nAUTH LOGIN\r\n" + kLoginUser +
                "*\r\nAUTH PLAIN *\r\nNOOP\r\n",
       .output = kEhloAuth + kPlainGo + kCancelled + kUsername + kCancelled + kUsername +
                 kPassword + kCancelled + kCannotDecode + kOk,
       .setup = offer_auth},
      {.name = "auth_bad_base64",
       .input = kEhlo + "AUTH PLAIN AGFs!WNl\r\n" +                     // not the alphabet
                "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA\r\n" +   // padding missing
                "AUTH PLAIN AG=saWNl\r\nAUTH PLAIN AGFsaWNl====\r\n" +  // "=" misplaced
                "AUTH PLAIN AB==\r\n" +                                 // pad bits not zero
                "AUTH PLAIN\r\nAGFs aWNl\r\n" +                         // space inside
                "AUTH PLAIN AGFs aWNl\r\n",                             // two arguments
       .output = kEhloAuth + kCannotDecode + kCannotDecode + kCannotDecode + kCannotDecode +
                 kCannotDecode + kPlainGo + kCannotDecode + kAuthSyntax,
       .setup = offer_auth_many_errors},
      {.name = "auth_plain_malformed",
       .input = kEhlo + "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlYwByZXQ=\r\n" +  // three NULs
                "AUTH PLAIN YWxpY2VAZXhhbXBsZS5jb20Ac2VjcmV0\r\n" +              // one NUL
                "AUTH PLAIN AABzZWNyZXQ=\r\n" +                                  // no authcid
                "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAA==\r\n" +                  // no password
                "AUTH PLAIN AGFsDQppY2UAc2VjcmV0\r\n" +                          // CRLF in authcid
                "AUTH PLAIN AGFs/2ljZQBzZWNyZXQ=\r\n",                           // not UTF-8
       .output = kEhloAuth + repeated(kMalformed, 6),
       .setup = offer_auth_many_errors},
      // 255 octets is the most a field may hold (RFC 4616 2).
      {.name = "auth_field_length_limit",
       .input = kEhlo + "AUTH PLAIN AHV1" + repeated("dXV1", 84) + "dXUAeA==\r\n" +  // 256
                "AUTH LOGIN " + repeated("dXV1", 85) + "dQ==\r\n" +                  // 256
                "AUTH PLAIN AHV1" + repeated("dXV1", 84) + "dQB4\r\n",               // 255
       .output = kEhloAuth + kMalformed + kMalformed + kAuthOk,
       .log = {"AUTH |" + std::string(255, 'u') + "|x"},
       .setup = offer_auth},
      {.name = "auth_login_malformed",
       .input = kEhlo + "AUTH LOGIN YWxpAGNl\r\n" +      // "ali\0ce"
                "AUTH LOGIN\r\n" + kLoginUser + "\r\n",  // empty password
       .output = kEhloAuth + kMalformed + kUsername + kPassword + kMalformed,
       .setup = offer_auth},
      {.name = "auth_syntax_and_unknown_mechanism",
       .input = kEhlo + "AUTH\r\nAUTH  PLAIN\r\nAUTH PLAIN = x\r\nAUTH CRAM-MD5\r\n" +
                "AUTH PLAINX =\r\n",
       .output = kEhloAuth + kAuthSyntax + kAuthSyntax + kAuthSyntax +
                 "504 5.5.4 Unrecognized authentication mechanism\r\n"
                 "504 5.5.4 Unrecognized authentication mechanism\r\n",
       .setup = offer_auth},
      {.name = "auth_before_helo",
       .input = kAuthAlice + "HELO client.test\r\n" + kAuthAlice,
       .output = "503 5.5.1 Send HELO/EHLO first\r\n250 mx.test\r\n" + kAuthOk,
       .log = {kLogAlice},
       .setup = offer_auth},
      {.name = "auth_kept_across_rset_and_ehlo",
       .input = kEhlo + kAuthAlice + "RSET\r\n" + kEhlo + kAuthAlice + "AUTH LOGIN\r\n" +
                kMailRcpt + "DATA\r\n.\r\n",
       .output = kEhloAuth + kAuthOk + kOk + kEhloAuth + kAlreadyAuthenticated +
                 kAlreadyAuthenticated + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kLogAlice, kAskB, kBeginAlice, "DATA " + received("Q1"), "END", "COMMIT Q1"},
       .setup = offer_auth},
      {.name = "auth_inside_transaction",
       .input = kEhlo + kMail + kAuthAlice + "RSET\r\n" + kAuthAlice,
       .output = kEhloAuth + kMailOk +
                 "503 5.5.1 AUTH not permitted during a mail transaction\r\n" + kOk + kAuthOk,
       .log = {kLogAlice},
       .setup = offer_auth},
      {.name = "auth_failures_then_success",
       .input = kEhlo + kAuthBob + "AUTH PLAIN AGNhcm9sQGV4YW1wbGUuY29tAHNlY3JldA==\r\n" +
                kAuthAlice + kMail,  // carol: "\0carol@example.com\0secret"
       .output = kEhloAuth + kAuthInvalid + kAuthTempfail + kAuthOk + kMailOk,
       .log = {kLogBob, "AUTH |carol@example.com|secret", kLogAlice},
       .setup = offer_auth_with_results},
      // 535 and a cancelled exchange are protocol errors; 454 is not.
      {.name = "auth_failures_count_as_errors",
       .input = kEhlo + kAuthBob + "AUTH PLAIN AGNhcm9sQGV4YW1wbGUuY29tAHNlY3JldA==\r\n" +
                "AUTH LOGIN\r\n*\r\n" + kAuthBob + "NOOP\r\n",
       .output = kEhloAuth + kAuthInvalid + kAuthTempfail + kUsername + kCancelled + kAuthInvalid +
                 "421 4.7.0 mx.test Too many errors, closing connection\r\n",
       .log = {kLogBob, "AUTH |carol@example.com|secret", kLogBob},
       .setup =
           [](Config& c, RecordingHost& h) {
             offer_auth_with_results(c, h);
             c.limits.max_errors = 3;
           },
       .closing = true},
      {.name = "auth_failures_count_as_errors_inline",
       .input = kEhlo + kAuthBob + kAuthBob + kAuthBob + "NOOP\r\n",
       .output = kEhloAuth + kAuthInvalid + kAuthInvalid + kAuthInvalid +
                 "421 4.7.0 mx.test Too many errors, closing connection\r\n",
       .log = {kLogBob, kLogBob, kLogBob},
       .setup =
           [](Config& c, RecordingHost& h) {
             offer_auth_with_results(c, h);
             c.limits.max_errors = 3;
           },
       .auth = AuthAnswer::inline_answer,
       .closing = true},
      {.name = "auth_required",
       .input = kEhlo + kMail + kAuthBob + kMail + kAuthAlice + kMailRcpt + "DATA\r\nx\r\n.\r\n",
       .output = kEhloAuth + kAuthRequired + kAuthInvalid + kAuthRequired + kAuthOk + kMailOk +
                 kRcptOk + kGo + queued("Q1"),
       .log = {kLogBob, kLogAlice, kAskB, kBeginAlice, data("Q1", "x\r\n"), "END", "COMMIT Q1"},
       .setup =
           [](Config& c, RecordingHost& h) {
             offer_auth_with_results(c, h);
             c.auth.required = true;
           }},
      // With AUTH required, a MAIL read before the answer would be refused 530: it waits.
      {.name = "auth_login_then_pipelined_message",
       .input = kEhlo + "AUTH LOGIN\r\n" + kLoginUser + kLoginPassword + kMailRcpt +
                "DATA\r\nx\r\n.\r\nQUIT\r\n",
       .output = kEhloAuth + kUsername + kPassword + kAuthOk + kMailOk + kRcptOk + kGo +
                 queued("Q1") + kBye,
       .log = {kLogAlice, kAskB, kBeginAlice, data("Q1", "x\r\n"), "END", "COMMIT Q1"},
       .setup = require_auth,
       .closing = true},
      {.name = "auth_answered_inline_then_pipelined_message",
       .input = kEhlo + kAuthAlice + kMailRcpt + "DATA\r\nx\r\n.\r\nQUIT\r\n",
       .output = kEhloAuth + kAuthOk + kMailOk + kRcptOk + kGo + queued("Q1") + kBye,
       .log = {kLogAlice, kAskB, kBeginAlice, data("Q1", "x\r\n"), "END", "COMMIT Q1"},
       .setup = require_auth,
       .commit = Commit::inline_succeed,
       .auth = AuthAnswer::inline_answer,
       .closing = true},
      {.name = "auth_unanswered_holds_input",
       .input = kEhlo + kAuthAlice + kMail + "QUIT\r\n",
       .output = kEhloAuth,
       .log = {kLogAlice},
       .setup = offer_auth,
       .auth = AuthAnswer::never},
      {.name = "auth_response_line_too_long",
       .input = kEhlo + "AUTH PLAIN\r\n" + std::string(600, 'A') + "\r\nNOOP\r\n",
       .output =
           kEhloAuth + kPlainGo + "500 5.5.6 Authentication Exchange line is too long\r\n" + kOk,
       .setup = offer_auth},
      {.name = "auth_response_bare_lf_or_control_character",
       .input = kEhlo + "AUTH PLAIN\r\nAGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\nAUTH LOGIN\r\n" +
                "YWxpY2VAZXhh\x01"
                "bXBsZS5jb20=\r\nNOOP\r\n",
       .output = kEhloAuth + kPlainGo + "500 5.5.2 Command line must end with <CR><LF>\r\n" +
                 kUsername + "500 5.5.2 Control character in command line\r\n" + kOk,
       .setup = offer_auth},
      {.name = "auth_response_bare_lf_normalised",
       .input = kEhlo + "AUTH PLAIN\r\nAGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\n",
       .output = kEhloAuth + kPlainGo + kAuthOk,
       .log = {kLogAlice},
       .setup =
           [](Config& c, RecordingHost& h) {
             offer_auth(c, h);
             normalise(c, h);
           }},
      // RFC 4954 5: taken and ignored; the envelope names only who authenticated here.
      {.name = "mail_auth_parameter",
       .input = kEhlo + "MAIL FROM:<a@example.org> AUTH=<>\r\nRSET\r\n" +
                "MAIL FROM:<a@example.org> AUTH=a=b\r\n" +
                "MAIL FROM:<a@example.org> AUTH=<> AUTH=<>\r\n" +
                "MAIL FROM:<a@example.org> AUTH\r\n" +
                "MAIL FROM:<a@example.org> auth=alice+40example.com\r\n" + kRcpt + "DATA\r\n.\r\n",
       .output = kEhloAuth + kMailOk + kOk + "501 5.5.4 Invalid parameter: AUTH\r\n" +
                 "501 5.5.4 Invalid parameter: AUTH\r\n" + "501 5.5.4 Invalid parameter: AUTH\r\n" +
                 kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, "DATA " + received("Q1"), "END", "COMMIT Q1"},
       .setup = offer_auth},
  };
}

}  // namespace postcore::smtp::smtp_test
