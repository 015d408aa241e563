// The Received: trace header (RFC 5321 4.4) the session puts in front of every message it
// takes, and the RFC 5322 date it carries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace postcore::smtp {

struct ReceivedFields {
  std::string_view helo;            // the client's EHLO/HELO argument
  std::string_view client_address;  // peer IP as text
  std::string_view hostname;        // this server
  std::string_view protocol;        // ESMTP, SMTP or UTF8SMTP (RFC 3848, RFC 6531)
  std::string_view queue_id;
  std::string_view recipient;  // only when the message has exactly one, else empty
  int64_t time = 0;            // unix seconds
};

// Appends, with CRLF line ends:
//   Received: from <helo> (<client_address>)
//   	by <hostname> with <protocol> id <queue_id>
//   	for <<recipient>>; <date>
// ("; <date>" closes the "by" line when there is no recipient clause).
void append_received_header(std::string& out, const ReceivedFields& fields);

// Appends e.g. "Tue, 14 Nov 2023 22:13:20 +0000": RFC 5322 3.3 date-time, in UTC.
void append_rfc5322_date(std::string& out, int64_t unix_seconds);

}  // namespace postcore::smtp
