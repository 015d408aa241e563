// The fixed replies of the SMTP session, each with its RFC 3463 enhanced status code (the
// 3xx ones have none).
// Replies that carry the hostname, a queue id or an octet count are built in session.cc.
#pragma once

#include <string_view>

namespace postcore::smtp::reply {

inline constexpr std::string_view ok = "250 2.0.0 Ok\r\n";
inline constexpr std::string_view sender_ok = "250 2.1.0 Ok\r\n";
inline constexpr std::string_view recipient_ok = "250 2.1.5 Ok\r\n";
inline constexpr std::string_view cannot_vrfy =
    "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n";
// RFC 3463 status codes exist only for classes 2, 4 and 5, so 354 carries none.
inline constexpr std::string_view start_data = "354 End data with <CR><LF>.<CR><LF>\r\n";

inline constexpr std::string_view unknown_command = "500 5.5.1 Command unrecognized\r\n";
inline constexpr std::string_view command_too_long = "500 5.5.2 Line too long\r\n";
inline constexpr std::string_view command_bare_lf =
    "500 5.5.2 Command line must end with <CR><LF>\r\n";
inline constexpr std::string_view command_bad_octet =
    "500 5.5.2 Control character in command line\r\n";
inline constexpr std::string_view not_implemented = "502 5.5.1 Command not implemented\r\n";
inline constexpr std::string_view help_topic_unknown = "504 5.5.4 HELP topic not implemented\r\n";

inline constexpr std::string_view ehlo_syntax = "501 5.5.4 Syntax: EHLO <hostname>\r\n";
inline constexpr std::string_view helo_syntax = "501 5.5.4 Syntax: HELO <hostname>\r\n";
inline constexpr std::string_view mail_syntax = "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
inline constexpr std::string_view rcpt_syntax = "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
inline constexpr std::string_view bdat_syntax = "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n";
inline constexpr std::string_view vrfy_syntax = "501 5.5.4 Syntax: VRFY <address>\r\n";
inline constexpr std::string_view no_arguments = "501 5.5.4 Syntax: no parameters allowed\r\n";

inline constexpr std::string_view bad_sender = "501 5.1.7 Bad sender address syntax\r\n";
inline constexpr std::string_view bad_recipient = "501 5.1.3 Bad recipient address syntax\r\n";
inline constexpr std::string_view sender_local_part_too_long =
    "501 5.1.7 Local part of sender address too long\r\n";
inline constexpr std::string_view recipient_local_part_too_long =
    "501 5.1.3 Local part of recipient address too long\r\n";
inline constexpr std::string_view sender_domain_too_long =
    "501 5.1.7 Domain of sender address too long\r\n";
inline constexpr std::string_view recipient_domain_too_long =
    "501 5.1.3 Domain of recipient address too long\r\n";
inline constexpr std::string_view sender_path_too_long = "501 5.1.7 Path too long\r\n";
inline constexpr std::string_view recipient_path_too_long = "501 5.1.3 Path too long\r\n";
// RFC 6531 3.5
inline constexpr std::string_view sender_needs_smtputf8 =
    "553 5.6.7 Non-ASCII addresses not permitted for that sender\r\n";
inline constexpr std::string_view recipient_needs_smtputf8 =
    "553 5.6.7 Non-ASCII addresses not permitted for that recipient\r\n";

inline constexpr std::string_view need_helo = "503 5.5.1 Send HELO/EHLO first\r\n";
inline constexpr std::string_view nested_mail = "503 5.5.1 Nested MAIL command\r\n";
inline constexpr std::string_view need_mail = "503 5.5.1 Need MAIL command\r\n";
inline constexpr std::string_view rcpt_after_bdat = "503 5.5.1 RCPT not allowed after BDAT\r\n";
inline constexpr std::string_view data_after_bdat = "503 5.5.1 DATA not allowed after BDAT\r\n";
inline constexpr std::string_view binarymime_needs_bdat =
    "503 5.5.1 BODY=BINARYMIME requires BDAT\r\n";
inline constexpr std::string_view no_valid_recipients = "554 5.5.1 No valid recipients\r\n";
inline constexpr std::string_view too_many_recipients = "452 4.5.3 Too many recipients\r\n";

inline constexpr std::string_view recipient_unknown =
    "550 5.1.1 Recipient address rejected: User unknown\r\n";
inline constexpr std::string_view relay_denied = "554 5.7.1 Relay access denied\r\n";
inline constexpr std::string_view recipient_disabled =
    "550 5.2.1 Recipient address rejected: Mailbox disabled\r\n";
inline constexpr std::string_view recipient_mailbox_full =
    "452 4.2.2 Recipient address rejected: Mailbox full\r\n";
inline constexpr std::string_view recipient_tempfail =
    "451 4.3.0 Recipient address rejected: Try again later\r\n";

inline constexpr std::string_view message_too_big =
    "552 5.3.4 Message size exceeds fixed limit\r\n";
inline constexpr std::string_view bare_line_ending =
    "550 5.6.0 Bare <CR> or <LF> in message text not allowed\r\n";
inline constexpr std::string_view text_line_too_long = "500 5.5.6 Line too long\r\n";
inline constexpr std::string_view store_unavailable =
    "451 4.3.0 Temporary failure storing the message, try again later\r\n";

// AUTH (RFC 4954). The 334 challenges carry no status code (class 3, like 354); LOGIN's are
// "Username:" and "Password:" in base64.
inline constexpr std::string_view auth_plain_challenge = "334 \r\n";
inline constexpr std::string_view auth_username_challenge = "334 VXNlcm5hbWU6\r\n";
inline constexpr std::string_view auth_password_challenge = "334 UGFzc3dvcmQ6\r\n";
inline constexpr std::string_view auth_succeeded = "235 2.7.0 Authentication successful\r\n";
inline constexpr std::string_view auth_invalid = "535 5.7.8 Authentication credentials invalid\r\n";
inline constexpr std::string_view auth_tempfail = "454 4.7.0 Temporary authentication failure\r\n";
inline constexpr std::string_view auth_required = "530 5.7.0 Authentication required\r\n";
inline constexpr std::string_view auth_syntax =
    "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n";
inline constexpr std::string_view auth_mechanism_unknown =
    "504 5.5.4 Unrecognized authentication mechanism\r\n";
inline constexpr std::string_view already_authenticated = "503 5.5.1 Already authenticated\r\n";
inline constexpr std::string_view auth_in_transaction =
    "503 5.5.1 AUTH not permitted during a mail transaction\r\n";
inline constexpr std::string_view auth_cannot_decode = "501 5.5.2 Cannot decode response\r\n";
// Decoded, but not a PLAIN message or LOGIN name or password (sasl.h valid_sasl_field()).
inline constexpr std::string_view auth_malformed =
    "501 5.5.2 Malformed authentication response\r\n";
inline constexpr std::string_view auth_cancelled = "501 5.7.0 Authentication cancelled\r\n";
inline constexpr std::string_view auth_line_too_long =
    "500 5.5.6 Authentication Exchange line is too long\r\n";

}  // namespace postcore::smtp::reply
