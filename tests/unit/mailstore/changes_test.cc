// Every kind of mailbox change survives its encoding unchanged, and a payload that is
// short, long, of another version or past a limit is refused.
#include "queue/mailstore/changes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::mailstore {
namespace {

std::vector<Change> samples() {
  Appended a;
  a.folder = 3;
  a.uid = 77;
  a.modseq = 1234567890123ull;
  a.flags = flag_seen | flag_draft;
  a.keywords = 0x8000000000000001ull;
  a.internal_date = -86400;
  a.zone_minutes = -330;
  a.size = 1ull << 40;
  a.blob = 0xfeedfacecafebeefull;
  a.uidl = "UID123-abc";
  a.delivery = "00000000000100000002/1";
  return {
      FolderCreated{1, "INBOX", 1700000000, SpecialUse::none},
      FolderCreated{2, "Archive/2026/Ärger ✓", 1700000001, SpecialUse::archive},
      FolderRenamed{2, "Old/Ärger"},
      FolderDeleted{2},
      Subscribed{"Lists/dev", false},
      KeywordDefined{1, 5, "$Forwarded"},
      a,
      Appended{},
      FlagsChanged{1, 99, {{1, flag_seen, 0}, {5, flag_deleted | flag_flagged, 3}}},
      FlagsChanged{1, 100, {}},
      Expunged{1, 101, {1, 2, 3, 4000000000u}},
  };
}

TEST(MailboxChanges, EveryKindRoundTrips) {
  for (const Change& change : samples()) {
    SCOPED_TRACE(change.index());
    const std::string bytes = encode_change(change);
    auto back = decode_change(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(encode_change(*back), bytes);
    EXPECT_EQ(back->index(), change.index());
  }
  auto back = decode_change(encode_change(samples()[6]));
  const Appended& a = std::get<Appended>(*back);
  EXPECT_EQ(a.uid, 77u);
  EXPECT_EQ(a.zone_minutes, -330);
  EXPECT_EQ(a.uidl, "UID123-abc");
  EXPECT_EQ(a.delivery, "00000000000100000002/1");
  EXPECT_EQ(std::get<FolderCreated>(*decode_change(encode_change(samples()[1]))).name,
            "Archive/2026/Ärger ✓");
}

TEST(MailboxChanges, DamagedPayloadsAreRefused) {
  for (const Change& change : samples()) {
    SCOPED_TRACE(change.index());
    const std::string bytes = encode_change(change);
    for (size_t cut = 0; cut < bytes.size(); cut++)
      EXPECT_FALSE(decode_change(bytes.substr(0, cut)).ok()) << "cut at " << cut;
    EXPECT_FALSE(decode_change(bytes + '\0').ok());
    std::string other_version = bytes;
    other_version[0] = 2;
    EXPECT_FALSE(decode_change(other_version).ok());
  }
  EXPECT_FALSE(decode_change(std::string("\x01\x08", 2)).ok());  // no such kind
  // Flags outside the system flags, a keyword index past the limit, a UIDL too long.
  Appended a;
  a.flags = 32;
  EXPECT_FALSE(decode_change(encode_change(a)).ok());
  EXPECT_FALSE(decode_change(encode_change(KeywordDefined{1, 64, "x"})).ok());
  Appended long_uidl;
  long_uidl.uidl = std::string(71, 'u');
  EXPECT_FALSE(decode_change(encode_change(long_uidl)).ok());
  // More messages than a change may name, all there.
  std::string huge = encode_change(Expunged{1, 2, {}});
  huge[huge.size() - 4] = '\xff';
  huge[huge.size() - 3] = '\xff';
  huge[huge.size() - 2] = '\x0f';  // 1 million
  huge.append(std::string(4 * 1000000, '\x01'));
  EXPECT_FALSE(decode_change(huge).ok());
}

}  // namespace
}  // namespace postcore::mailstore
