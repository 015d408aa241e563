#include "dataplane/smtp/received_header.h"

#include <chrono>

namespace postcore::smtp {
namespace {

void append_two_digits(std::string& out, unsigned value) {
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

}  // namespace

void append_rfc5322_date(std::string& out, int64_t unix_seconds) {
  using namespace std::chrono;
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds time{seconds{unix_seconds}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};

  out += kWeekdays[weekday{day}.c_encoding()];
  out += ", ";
  append_two_digits(out, static_cast<unsigned>(date.day()));
  out += ' ';
  out += kMonths[static_cast<unsigned>(date.month()) - 1];
  out += ' ';
  out += std::to_string(static_cast<int>(date.year()));
  out += ' ';
  append_two_digits(out, static_cast<unsigned>(clock.hours().count()));
  out += ':';
  append_two_digits(out, static_cast<unsigned>(clock.minutes().count()));
  out += ':';
  append_two_digits(out, static_cast<unsigned>(clock.seconds().count()));
  out += " +0000";
}

void append_received_header(std::string& out, const ReceivedFields& fields) {
  out += "Received: from ";
  out += fields.helo;
  out += " (";
  out += fields.client_address;
  out += ")\r\n\tby ";
  out += fields.hostname;
  out += " with ";
  out += fields.protocol;
  out += " id ";
  out += fields.queue_id;
  if (!fields.recipient.empty()) {
    out += "\r\n\tfor <";
    out += fields.recipient;
    out += '>';
  }
  out += "; ";
  append_rfc5322_date(out, fields.time);
  out += "\r\n";
}

}  // namespace postcore::smtp
