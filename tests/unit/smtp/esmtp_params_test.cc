// Table tests of MAIL and RCPT parameter parsing.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/smtp/esmtp_params.h"

namespace postcore::smtp {
namespace {

struct MailParamCase {
  std::string text;
  ParamError error;
  std::string keyword;  // at fault
  MailParams expected;  // when error is none (envid compared as text)
  bool auth_offered = false;
};

MailParams mail(bool size_given, uint64_t size, BodyType body, bool utf8, DsnRet ret,
                std::string_view envid) {
  MailParams params;
  params.size_given = size_given;
  params.size = size;
  params.body = body;
  params.smtputf8 = utf8;
  params.ret = ret;
  params.envid = envid;
  return params;
}

const MailParams kNone{};

const MailParamCase kMailCases[] = {
    {"", ParamError::none, "", kNone},
    {"   ", ParamError::none, "", kNone},
    {" SIZE=0", ParamError::none, "",
     mail(true, 0, BodyType::unspecified, false, DsnRet::unspecified, "")},
    {" SIZE=18446744073709551615", ParamError::none, "",
     mail(true, UINT64_MAX, BodyType::unspecified, false, DsnRet::unspecified, "")},
    {" SIZE=99999999999999999999999999", ParamError::none, "",
     mail(true, UINT64_MAX, BodyType::unspecified, false, DsnRet::unspecified, "")},
    {" size=10 body=binarymime smtputf8 ret=full envid=x", ParamError::none, "",
     mail(true, 10, BodyType::binary_mime, true, DsnRet::full, "x")},
    {" BODY=7BIT", ParamError::none, "",
     mail(false, 0, BodyType::seven_bit, false, DsnRet::unspecified, "")},
    {"  BODY=8BITMIME  RET=HDRS  ", ParamError::none, "",
     mail(false, 0, BodyType::eight_bit_mime, false, DsnRet::hdrs, "")},
    {" ENVID=+2B+3D+20ok", ParamError::none, "",
     mail(false, 0, BodyType::unspecified, false, DsnRet::unspecified, "+2B+3D+20ok")},
    {"SIZE=1", ParamError::syntax, "SIZE=1", kNone},
    {" SIZE=", ParamError::syntax, "SIZE", kNone},
    {" SIZE=-1", ParamError::syntax, "SIZE", kNone},
    {" SIZE=1 SIZE=1", ParamError::syntax, "SIZE", kNone},
    {" BODY=8BITMIME BODY=7BIT", ParamError::syntax, "BODY", kNone},
    {" BODY", ParamError::syntax, "BODY", kNone},
    {" SMTPUTF8=1", ParamError::syntax, "SMTPUTF8", kNone},
    {" SMTPUTF8 SMTPUTF8", ParamError::syntax, "SMTPUTF8", kNone},
    {" RET=ALL", ParamError::syntax, "RET", kNone},
    {" RET=FULL RET=FULL", ParamError::syntax, "RET", kNone},
    {" ENVID=", ParamError::syntax, "ENVID", kNone},
    {" ENVID=a+2b", ParamError::syntax, "ENVID", kNone},
    {" ENVID=a+", ParamError::syntax, "ENVID", kNone},
    {" ENVID=a+2", ParamError::syntax, "ENVID", kNone},
    {" ENVID=\xC3\xB6", ParamError::syntax, "ENVID", kNone},
    {" ENVID=" + std::string(101, 'e'), ParamError::syntax, "ENVID", kNone},
    {" =x", ParamError::syntax, "", kNone},
    {" -X=1", ParamError::syntax, "-X", kNone},
    {" X_Y=1", ParamError::syntax, "X_Y", kNone},
    {" AUTH=<>", ParamError::unknown, "AUTH", kNone},
    {" AUTH=<>", ParamError::none, "", kNone, true},
    {" auth=alice+40example.com SIZE=5", ParamError::none, "",
     mail(true, 5, BodyType::unspecified, false, DsnRet::unspecified, ""), true},
    {" AUTH=", ParamError::syntax, "AUTH", kNone, true},
    {" AUTH", ParamError::syntax, "AUTH", kNone, true},
    {" AUTH=a=b", ParamError::syntax, "AUTH", kNone, true},
    {" AUTH=a+4", ParamError::syntax, "AUTH", kNone, true},
    {" AUTH=<> AUTH=<>", ParamError::syntax, "AUTH", kNone, true},
    {" NOTIFY=NEVER", ParamError::unknown, "NOTIFY", kNone},
    {" XFOO", ParamError::unknown, "XFOO", kNone},
};

class MailParamTable : public ::testing::TestWithParam<MailParamCase> {};

TEST_P(MailParamTable, Parses) {
  const MailParamCase& c = GetParam();
  MailParams params;
  const ParamProblem problem = parse_mail_params(c.text, c.auth_offered, &params);
  ASSERT_EQ(static_cast<int>(problem.error), static_cast<int>(c.error)) << c.text;
  if (c.error != ParamError::none) {
    EXPECT_EQ(problem.keyword, c.keyword);
    return;
  }
  EXPECT_EQ(params.size_given, c.expected.size_given);
  EXPECT_EQ(params.size, c.expected.size);
  EXPECT_EQ(params.body, c.expected.body);
  EXPECT_EQ(params.smtputf8, c.expected.smtputf8);
  EXPECT_EQ(params.ret, c.expected.ret);
  EXPECT_EQ(params.envid, c.expected.envid);
}

INSTANTIATE_TEST_SUITE_P(Mail, MailParamTable, ::testing::ValuesIn(kMailCases));

struct RcptParamCase {
  std::string text;
  ParamError error;
  std::string keyword;
  uint8_t notify = 0;
  std::string orcpt;
};

const RcptParamCase kRcptCases[] = {
    {"", ParamError::none, "", 0, ""},
    {" NOTIFY=NEVER", ParamError::none, "", notify_never, ""},
    {" notify=never", ParamError::none, "", notify_never, ""},
    {" NOTIFY=SUCCESS", ParamError::none, "", notify_success, ""},
    {" NOTIFY=DELAY,FAILURE,SUCCESS", ParamError::none, "",
     notify_delay | notify_failure | notify_success, ""},
    {" NOTIFY=FAILURE,FAILURE", ParamError::none, "", notify_failure, ""},
    {" ORCPT=rfc822;a+40b.example", ParamError::none, "", 0, "rfc822;a+40b.example"},
    {" ORCPT=utf-8;\xC3\xB6@b.example NOTIFY=DELAY", ParamError::none, "", notify_delay,
     "utf-8;\xC3\xB6@b.example"},
    {" NOTIFY=NEVER,DELAY", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=SUCCESS,NEVER", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=,", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=SUCCESS,", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=OFTEN", ParamError::syntax, "NOTIFY"},
    {" NOTIFY=DELAY NOTIFY=DELAY", ParamError::syntax, "NOTIFY"},
    {" ORCPT=rfc822", ParamError::syntax, "ORCPT"},
    {" ORCPT=;a@b", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc822;", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc_822;a@b", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc822;\xC3\xB6@b", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc822;a=b", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc822;a@b ORCPT=rfc822;a@b", ParamError::syntax, "ORCPT"},
    {" ORCPT=rfc822;" + std::string(493, 'a'), ParamError::none, "", 0,
     "rfc822;" + std::string(493, 'a')},
    {" ORCPT=rfc822;" + std::string(494, 'a'), ParamError::syntax, "ORCPT"},
    {" SIZE=1", ParamError::unknown, "SIZE"},
    {" X", ParamError::unknown, "X"},
};

class RcptParamTable : public ::testing::TestWithParam<RcptParamCase> {};

TEST_P(RcptParamTable, Parses) {
  const RcptParamCase& c = GetParam();
  RcptParams params;
  const ParamProblem problem = parse_rcpt_params(c.text, &params);
  ASSERT_EQ(static_cast<int>(problem.error), static_cast<int>(c.error)) << c.text;
  if (c.error != ParamError::none) {
    EXPECT_EQ(problem.keyword, c.keyword);
    return;
  }
  EXPECT_EQ(params.notify, c.notify);
  EXPECT_EQ(params.orcpt, c.orcpt);
}

INSTANTIATE_TEST_SUITE_P(Rcpt, RcptParamTable, ::testing::ValuesIn(kRcptCases));

}  // namespace
}  // namespace postcore::smtp
