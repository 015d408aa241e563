// Maildir file names give their flags, keywords and sizes; dovecot-keywords and
// dovecot-uidlist give keyword names, UIDs, UIDVALIDITY and POP3 UIDLs, and a malformed line
// is refused naming FILE:LINE:COLUMN.
#include "queue/mailstore/maildir_names.h"

#include <gtest/gtest.h>

#include "queue/mailstore/changes.h"

namespace postcore::mailstore {
namespace {

TEST(MaildirNames, FlagsKeywordsAndSizesComeFromTheName) {
  auto n = parse_maildir_name("1234567890.M20046P2137.mailserver,S=4542,W=4642:2,RSTbaz");
  EXPECT_EQ(n.base, "1234567890.M20046P2137.mailserver,S=4542,W=4642");
  EXPECT_EQ(n.flags, flag_answered | flag_seen | flag_deleted);
  EXPECT_FALSE(n.passed);
  EXPECT_EQ(n.keywords, (std::vector<uint8_t>{0, 1, 25}));
  EXPECT_EQ(n.size, 4542u);
  EXPECT_EQ(n.vsize, 4642u);

  n = parse_maildir_name("1035478339.27041_118.foo.org:2,DFP,dovecot-private");
  EXPECT_EQ(n.flags, flag_draft | flag_flagged);
  EXPECT_TRUE(n.passed);
  EXPECT_TRUE(n.keywords.empty());
  EXPECT_FALSE(n.size);

  // Kept on a file system without ':'; in new/ without an info part; odd letters.
  EXPECT_EQ(parse_maildir_name("123.host;2,S").flags, flag_seen);
  EXPECT_EQ(parse_maildir_name("123.host!2,F").flags, flag_flagged);
  n = parse_maildir_name("123.host,S=12");
  EXPECT_EQ(n.base, "123.host,S=12");
  EXPECT_EQ(n.flags, 0);
  EXPECT_EQ(n.size, 12u);
  EXPECT_EQ(parse_maildir_name("123.host:2,SXY1").flags, flag_seen);
  EXPECT_FALSE(parse_maildir_name("123.host,S=12x:2,").size);
  EXPECT_EQ(parse_maildir_name("").base, "");
}

TEST(MaildirNames, DovecotKeywords) {
  auto k = parse_dovecot_keywords("0 $Junk\r\n1 $NonJunk\n3 Work stuff\n", "dovecot-keywords");
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(*k, (std::vector<std::string>{"$Junk", "$NonJunk", "", "Work stuff"}));
  auto bad = parse_dovecot_keywords("0 $Junk\n26 Late\n", "Maildir/dovecot-keywords");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "Maildir/dovecot-keywords:2:1: expected a keyword index from 0 to 25");
  bad = parse_dovecot_keywords("0 $Junk\n  4\n", "k");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "k:2:4: expected a keyword name");
}

TEST(MaildirNames, DovecotUidlistVersion3) {
  auto list = parse_dovecot_uidlist(
      "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
      "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
      "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n"
      "25018 P O7 Gabc :1276533074.M1P1.kurkku:2,S\n"
      "25020 Pold-uidl-17 X9 :name with space:2,\n",
      "dovecot-uidlist");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->version, 3u);
  EXPECT_EQ(list->uidvalidity, 1275660208u);
  EXPECT_EQ(list->uidnext, 25022u);
  EXPECT_EQ(list->guid, "3085f01b7f11094c501100008c4a11c1");
  ASSERT_EQ(list->entries.size(), 4u);
  EXPECT_EQ(list->entries[0].uid, 25006u);
  EXPECT_EQ(list->entries[0].base, "1276528487.M364837P9451.kurkku,S=1355,W=1394");
  EXPECT_FALSE(uidl_of(list->entries[0]));  // the default form
  EXPECT_EQ(list->entries[1].vsize, 2481u);
  EXPECT_EQ(uidl_of(list->entries[2]), "1276533074.M1P1.kurkku");  // empty P: the base name
  EXPECT_EQ(list->entries[2].pop3_order, 7u);
  EXPECT_EQ(list->entries[2].guid, "abc");
  EXPECT_EQ(uidl_of(list->entries[3]), "old-uidl-17");
  EXPECT_EQ(list->entries[3].base, "name with space");
}

TEST(MaildirNames, CourierUidlistVersion1) {
  auto list = parse_dovecot_uidlist(
      "1 1100000000 4\n1 1099999990.123.host:2,S\n3 1099999999.9.host\n", "courierimapuiddb");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->version, 1u);
  EXPECT_EQ(list->uidvalidity, 1100000000u);
  EXPECT_EQ(list->uidnext, 4u);
  ASSERT_EQ(list->entries.size(), 2u);
  EXPECT_EQ(list->entries[1].uid, 3u);
  EXPECT_EQ(list->entries[1].base, "1099999999.9.host");
}

TEST(MaildirNames, MalformedUidlistsNameTheirPlace) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "u:1:1: empty: no header line"},
      {"2 V1 N2\n", "u:1:1: unknown version (1 and 3 are read)"},
      {"3 Vx N2\n", "u:1:3: bad UIDVALIDITY"},
      {"3 N2\n", "u:1:1: no UIDVALIDITY"},
      {"3 V9 N5\n1 :a\nzz :b\n", "u:3:1: bad UID"},
      {"3 V9 N5\n2 :a\n2 :b\n", "u:3:1: UID 2 does not follow 2: UIDs must ascend"},
      {"3 V9 N5\n1 a\n", "u:2:3: expected ' :' and a file name"},
      {"3 V9 N5\n1 Wx :a\n", "u:2:3: bad number in field"},
      {"3 V9 N5\n1 :\n", "u:2:4: expected a file name"},
      {"3 V9 N5\n7 :a\n", "u:2:1: UID 7 is not below the next UID 5"},
      {"1 9 x\n", "u:1:5: bad next UID"},
  };
  for (const Case& c : cases) {
    auto list = parse_dovecot_uidlist(c.text, "u");
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_EQ(list.error().message, c.error) << c.text;
  }
}

}  // namespace
}  // namespace postcore::mailstore
