#include "control/server/request_args.h"

#include <gtest/gtest.h>

namespace postcore::control {
namespace {

using nlohmann::json;

TEST(RequestArgs, ReadsTypedValues) {
  json args = {{"name", "x"}, {"flag", true}, {"n", 7}, {"list", {"a", "b"}}};
  RequestArgs a(args, "cmd");
  EXPECT_EQ(*a.string("name"), "x");
  EXPECT_TRUE(*a.boolean("flag", false));
  EXPECT_EQ(**a.optional_number("n"), 7u);
  EXPECT_EQ(*a.strings("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(a.optional_string("absent")->has_value());
  EXPECT_TRUE(a.finish());
}

struct BadCase {
  json args;
  std::function<Error(RequestArgs&)> read;  // the error the read gave
  const char* message;
};

TEST(RequestArgs, RefusesWithExactMessages) {
  const std::vector<BadCase> cases = {
      {json::object(), [](RequestArgs& a) { return a.string("name").error(); },
       "cmd: argument \"name\" is required"},
      {{{"name", 3}},
       [](RequestArgs& a) { return a.string("name").error(); },
       "cmd: argument \"name\" must be a string"},
      {{{"flag", "yes"}},
       [](RequestArgs& a) { return a.boolean("flag", false).error(); },
       "cmd: argument \"flag\" must be true or false"},
      {{{"n", -1}},
       [](RequestArgs& a) { return a.optional_number("n").error(); },
       "cmd: argument \"n\" must be a whole number"},
      {{{"list", {"a", 1}}},
       [](RequestArgs& a) { return a.strings("list").error(); },
       "cmd: argument \"list\" must be a list of strings"},
  };
  for (const auto& c : cases) {
    RequestArgs a(c.args, "cmd");
    EXPECT_EQ(c.read(a).message, c.message);
  }
  json typo = {{"name", "x"}, {"nmae", "y"}};
  RequestArgs a(typo, "cmd");
  ASSERT_TRUE(a.string("name"));
  auto f = a.finish();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "cmd: unknown argument \"nmae\"");
}

}  // namespace
}  // namespace postcore::control
