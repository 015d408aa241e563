// Table tests of the Received: header and its RFC 5322 date.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/smtp/received_header.h"

namespace postcore::smtp {
namespace {

struct DateCase {
  int64_t unix_seconds;
  std::string date;
};

const DateCase kDateCases[] = {
    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
    {1700000000, "Tue, 14 Nov 2023 22:13:20 +0000"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
    {1709251199, "Thu, 29 Feb 2024 23:59:59 +0000"},
    {1709251200, "Fri, 01 Mar 2024 00:00:00 +0000"},
    {1735689599, "Tue, 31 Dec 2024 23:59:59 +0000"},
    {4102444800, "Fri, 01 Jan 2100 00:00:00 +0000"},
    {-1, "Wed, 31 Dec 1969 23:59:59 +0000"},
};

class DateTable : public ::testing::TestWithParam<DateCase> {};

TEST_P(DateTable, FormatsInUtc) {
  std::string out;
  append_rfc5322_date(out, GetParam().unix_seconds);
  EXPECT_EQ(out, GetParam().date);
}

INSTANTIATE_TEST_SUITE_P(Dates, DateTable, ::testing::ValuesIn(kDateCases));

TEST(ReceivedHeader, WithRecipient) {
  std::string out = "x";
  append_received_header(out, {.helo = "client.test",
                               .client_address = "2001:db8::1",
                               .hostname = "mx.test",
                               .protocol = "ESMTP",
                               .queue_id = "Q7",
                               .recipient = "b@example.net",
                               .time = 0});
  EXPECT_EQ(out,
            "xReceived: from client.test (2001:db8::1)\r\n\tby mx.test with ESMTP id Q7\r\n"
            "\tfor <b@example.net>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
}

TEST(ReceivedHeader, WithoutRecipient) {
  std::string out;
  append_received_header(out, {.helo = "h",
                               .client_address = "192.0.2.1",
                               .hostname = "mx.test",
                               .protocol = "UTF8SMTP",
                               .queue_id = "Q1",
                               .recipient = "",
                               .time = 1700000000});
  EXPECT_EQ(out,
            "Received: from h (192.0.2.1)\r\n\tby mx.test with UTF8SMTP id Q1; "
            "Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

}  // namespace
}  // namespace postcore::smtp
