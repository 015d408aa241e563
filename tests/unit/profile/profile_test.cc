#include "common/profile.h"

#include <gtest/gtest.h>

namespace postcore {
namespace {

TEST(Profile, EmbeddedDevProfile) {
  auto p = load_profile("");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->port_base, 2000);
  EXPECT_EQ(p->data_dir, "./var");
  ASSERT_EQ(p->listeners.size(), 3u);
  EXPECT_EQ(p->listeners[0].bound_port, 2025);
  EXPECT_EQ(p->listeners[1].bound_port, 2587);
  EXPECT_EQ(p->listeners[2].service, Service::pop3);
  EXPECT_EQ(p->listeners[2].bound_port, 2110);
  EXPECT_EQ(p->pop3.idle_timeout, std::chrono::seconds(600));
  EXPECT_FALSE(p->deliver.hold);
  EXPECT_EQ(p->deliver.retry, std::chrono::seconds(60));
  EXPECT_EQ(p->smtp.max_message_size, 50ull << 20);
  EXPECT_EQ(p->smtp.max_expanded_recipients, 20000u);
  EXPECT_EQ(p->auth.verify_threads, 2u);
  EXPECT_TRUE(p->auth.rehash_on_login);
  EXPECT_EQ(p->auth.plaintext, PlaintextAuth::loopback);
}

TEST(Profile, VolumeMembersAreUnderTheDataDirectory) {
  auto p = parse_profile(
      "[[listener]]\nservice = \"smtp\"\naddress = \"127.0.0.1\"\n[[volumes]]\n"
      "members = [\"disk1\", \"/mnt/disk2\"]\nmaintenance_rate = \"20M\"\n",
      "x.toml", ProfileOverrides{"/data", std::nullopt});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->volume_member_path(p->volumes.members[0]), "/data/disk1");
  EXPECT_EQ(p->volume_member_path(p->volumes.members[1]), "/mnt/disk2");
  EXPECT_EQ(p->volumes.maintenance_bytes_per_second, 20u << 20);
  EXPECT_EQ(p->volumes.io_timeout, std::chrono::seconds(30));
  auto dev = load_profile("");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->volume_member_path(dev->volumes.members.at(0)), "./var");  // one member
}

TEST(Profile, OverridesWin) {
  ProfileOverrides o;
  o.port_base = 10000;
  o.data_dir = "/tmp/x";
  auto p = load_profile("", o);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->listeners[0].bound_port, 10025);
  EXPECT_EQ(p->data_dir, "/tmp/x");
}

TEST(Profile, CrlfAndCtrlZAccepted) {
  std::string text =
      "# comment\r\n[appliance]\r\nport_base = 100\r\n\r\n[[listener]]\r\nservice = \"smtp\"\r\n"
      "address = \"::1\"\r\n\x1a";
  auto p = parse_profile(text, "x.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->listeners[0].bound_port, 125);
}

struct BadCase {
  const char* text;
  const char* error;  // exact message
};

class ProfileErrors : public testing::TestWithParam<BadCase> {};

TEST_P(ProfileErrors, NameFileLineColumn) {
  auto p = parse_profile(GetParam().text, "bad.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProfileErrors,
    testing::Values(
        BadCase{"[appliance]\n# c\n\nbogus = 1\n",
                "bad.toml:4:1: unknown key 'bogus' in [appliance]"},
        BadCase{"[appliance]\r\n\r\n  port_base = \"x\"\r\n",
                "bad.toml:3:15: port_base must be an integer"},
        BadCase{"[[listener]]\nservice = \"gopher\"\naddress = \"127.0.0.1\"\n",
                "bad.toml:2:11: unknown service 'gopher' (this version serves smtp, submission)"},
        BadCase{"[[listener]]\nservice = \"smtp\"\naddress = \"localhost\"\n",
                "bad.toml:3:11: address must be a numeric IPv4 or IPv6 address, or \"aliases\""},
        BadCase{"[smtp]\nmax_message_size = \"10Q\"\n",
                "bad.toml:2:20: max_message_size: unknown size unit 'Q'"},
        BadCase{"[smtp]\nmax_expanded_recipients = 0\n",
                "bad.toml:2:27: max_expanded_recipients must be between 1 and 1000000"},
        BadCase{"[[volumes]]\nmembers = []\n",
                "bad.toml:2:11: members must be a list of 1 to 8 directories"},
        BadCase{"[[volumes]]\nmembers = [\"a\", \"a\"]\n",
                "bad.toml:2:17: volume member \"a\" is listed twice"},
        BadCase{"[[volumes]]\nmembers = [\"a\"]\n[[volumes]]\nmembers = [\"b\"]\n",
                "bad.toml:1:1: this version keeps everything on one volume set: give one "
                "[[volumes]]"},
        BadCase{"[[volumes]]\nname = \"mail\"\nmembers = [\"a\"]\n",
                "bad.toml:2:8: the volume set must be named \"main\""},
        BadCase{"[[volumes]]\nmembers = [\"a\"]\nio_timeout_seconds = 0\n",
                "bad.toml:3:22: io_timeout_seconds must be between 1 and 3600"},
        BadCase{"[auth]\nplaintext = \"sometimes\"\n",
                "bad.toml:2:13: plaintext must be \"never\", \"loopback\" or \"always\""},
        BadCase{"[auth]\nrehash_on_login = 1\n",
                "bad.toml:2:19: rehash_on_login must be true or false"},
        BadCase{"[auth]\nverify_threads = 0\n",
                "bad.toml:2:18: verify_threads must be between 1 and 64"},
        BadCase{"[smtp]\nbare_line_endings = \"keep\"\n",
                "bad.toml:2:21: bare_line_endings must be \"reject\" or \"normalise\""},
        BadCase{"[spool]\nsegment_size = 10\n",
                "bad.toml:2:16: segment_size must be between 1048576 and 1099511627776 bytes"},
        BadCase{"[appliance]\nport_base = 70000\n",
                "bad.toml:2:13: port_base must be between 0 and 64000"},
        BadCase{"[pop3]\nidle_timeout_seconds = 60\n",
                "bad.toml:2:24: idle_timeout_seconds must be at least 600 (RFC 1939 3)"},
        BadCase{"[deliver]\nhold = \"yes\"\n", "bad.toml:2:8: hold must be true or false"},
        BadCase{"[deliver]\nmax_in_flight = 0\n",
                "bad.toml:2:17: max_in_flight must be between 1 and 100000"},
        BadCase{"top = 1\n", "bad.toml:1:1: unknown key 'top' in the profile"},
        BadCase{"[appliance]\nhostname = \"a\"\n",
                "bad.toml:1:1: the profile has no [[listener]]"}));

TEST(Profile, SyntaxErrorHasPosition) {
  auto p = parse_profile("[appliance]\nport_base = = 3\n", "bad.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message.rfind("bad.toml:2:", 0), 0u) << p.error().message;
}

TEST(Profile, PortBaseOverflowRejected) {
  auto p = parse_profile(
      "[appliance]\nport_base = 64000\n[[listener]]\nservice = \"submission\"\n"
      "address = \"127.0.0.1\"\nport = 2000\n",
      "bad.toml");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("beyond port 65535"), std::string::npos);
}

}  // namespace
}  // namespace postcore
