// Where postcorectl finds the operator's SSH session for the lockout guard.
#include "control/cli/ssh_session.h"

#include <gtest/gtest.h>

namespace postcore::cli {
namespace {

TEST(SshSession, TheServerAddressIsTheThirdField) {
  EXPECT_EQ(server_address_of("192.0.2.9 50022 192.0.2.25 22"), "192.0.2.25");
  EXPECT_EQ(server_address_of("2001:db8::9 50022 2001:db8::25 22"), "2001:db8::25");
  EXPECT_EQ(server_address_of("192.0.2.9 50022 192.0.2.25"), std::nullopt);
  EXPECT_EQ(server_address_of(""), std::nullopt);
}

TEST(SshSession, FoundInAnEnvironmentBlock) {
  using namespace std::string_literals;
  EXPECT_EQ(ssh_connection_in("HOME=/root\0SSH_CONNECTION=a b c d\0TERM=xterm\0"s), "a b c d");
  EXPECT_EQ(ssh_connection_in("SSH_CONNECTION=a b c d"s), "a b c d");  // no trailing NUL
  EXPECT_EQ(ssh_connection_in("HOME=/root\0XSSH_CONNECTION=a b c d\0"s), std::nullopt);
  EXPECT_EQ(ssh_connection_in(""s), std::nullopt);
}

}  // namespace
}  // namespace postcore::cli
