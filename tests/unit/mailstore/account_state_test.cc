// An account's folders and messages change only by changes that fit: UIDs ascend and are
// never reused, MODSEQs rise, flags name defined keywords, a delivery is appended once, and
// a change that does not fit leaves everything as it was.
#include "queue/mailstore/account_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::mailstore {
namespace {

Appended message(uint32_t folder, uint32_t uid, uint64_t modseq, uint64_t size = 100) {
  Appended a;
  a.folder = folder;
  a.uid = uid;
  a.modseq = modseq;
  a.size = size;
  a.blob = uid * 10;
  a.internal_date = 1700000000 + uid;
  return a;
}

class AccountStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(state_.apply(FolderCreated{1, "INBOX", 1000, SpecialUse::none}).ok());
    ASSERT_TRUE(state_.apply(FolderCreated{2, "Sent", 1001, SpecialUse::sent}).ok());
  }
  const Folder& inbox() { return *state_.folder(1); }
  AccountState state_;
};

TEST_F(AccountStateTest, AppendsAscendAndSetUidnextAndHighestModseq) {
  EXPECT_EQ(inbox().uidnext(), 1u);
  EXPECT_EQ(inbox().highest_modseq(), 1u);
  ASSERT_TRUE(state_.apply(message(1, 1, 2)).ok());
  ASSERT_TRUE(state_.apply(message(1, 5, 3, 250)).ok());
  EXPECT_EQ(inbox().uidnext(), 6u);
  EXPECT_EQ(inbox().highest_modseq(), 3u);
  EXPECT_EQ(inbox().messages().size(), 2u);
  EXPECT_EQ(inbox().total_size(), 350u);
  EXPECT_FALSE(state_.apply(message(1, 5, 4)).ok());  // UID reused
  EXPECT_FALSE(state_.apply(message(1, 3, 4)).ok());  // below UIDNEXT
  EXPECT_FALSE(state_.apply(message(1, 6, 3)).ok());  // MODSEQ does not rise
  EXPECT_FALSE(state_.apply(message(9, 6, 4)).ok());  // no such folder
  EXPECT_EQ(inbox().uidnext(), 6u);
  EXPECT_EQ(inbox().messages().size(), 2u);
}

TEST_F(AccountStateTest, ExpungedUidsAreNeverUsedAgain) {
  for (uint32_t uid = 1; uid <= 4; uid++) ASSERT_TRUE(state_.apply(message(1, uid, uid + 1)).ok());
  ASSERT_TRUE(state_.apply(Expunged{1, 6, {2, 4}}).ok());
  ASSERT_EQ(inbox().messages().size(), 2u);
  EXPECT_EQ(inbox().messages()[0].uid, 1u);
  EXPECT_EQ(inbox().messages()[1].uid, 3u);
  EXPECT_EQ(inbox().total_size(), 200u);
  EXPECT_EQ(inbox().highest_modseq(), 6u);
  EXPECT_FALSE(state_.apply(message(1, 4, 7)).ok());
  EXPECT_TRUE(state_.apply(message(1, 5, 7)).ok());
  EXPECT_FALSE(state_.apply(Expunged{1, 8, {2}}).ok());     // gone already
  EXPECT_FALSE(state_.apply(Expunged{1, 8, {5, 3}}).ok());  // not ascending
  EXPECT_EQ(inbox().messages().size(), 3u);
}

TEST_F(AccountStateTest, FlagsAndKeywordsChangeAtOneModseq) {
  for (uint32_t uid = 1; uid <= 3; uid++) ASSERT_TRUE(state_.apply(message(1, uid, uid + 1)).ok());
  EXPECT_FALSE(state_.apply(FlagsChanged{1, 5, {{1, flag_seen, 1}}}).ok());  // keyword 0 unknown
  ASSERT_TRUE(state_.apply(KeywordDefined{1, 0, "$Forwarded"}).ok());
  EXPECT_FALSE(state_.apply(KeywordDefined{1, 0, "Other"}).ok());       // not the next index
  EXPECT_FALSE(state_.apply(KeywordDefined{1, 1, "$forwarded"}).ok());  // exists, any case
  ASSERT_TRUE(state_.apply(FlagsChanged{1, 5, {{1, flag_seen, 1}, {3, flag_deleted, 0}}}).ok());
  EXPECT_EQ(inbox().messages()[0].flags, flag_seen);
  EXPECT_EQ(inbox().messages()[0].keywords, 1u);
  EXPECT_EQ(inbox().messages()[0].modseq, 5u);
  EXPECT_EQ(inbox().messages()[1].modseq, 3u);  // untouched
  EXPECT_EQ(inbox().messages()[2].modseq, 5u);
  EXPECT_EQ(inbox().highest_modseq(), 5u);
  EXPECT_EQ(inbox().keyword_index("$FORWARDED"), 0);
  EXPECT_FALSE(state_.apply(FlagsChanged{1, 5, {{2, flag_seen, 0}}}).ok());  // MODSEQ again
  EXPECT_FALSE(state_.apply(FlagsChanged{1, 6, {{9, flag_seen, 0}}}).ok());  // no UID 9
  EXPECT_EQ(inbox().messages()[1].flags, 0);
}

TEST_F(AccountStateTest, ADeliveryIsAppendedOnce) {
  Appended a = message(1, 1, 2);
  a.delivery = "00000000000100000002/0";
  ASSERT_TRUE(state_.apply(a).ok());
  EXPECT_TRUE(state_.delivered("00000000000100000002/0"));
  EXPECT_FALSE(state_.delivered("00000000000100000002/1"));
  Appended again = message(1, 2, 3);
  again.delivery = a.delivery;
  EXPECT_FALSE(state_.apply(again).ok());
  EXPECT_EQ(inbox().messages().size(), 1u);
}

TEST_F(AccountStateTest, PopUidlsNeverChange) {
  Appended migrated = message(1, 1, 2);
  migrated.uidl = "old-server-uidl-17";
  ASSERT_TRUE(state_.apply(migrated).ok());
  ASSERT_TRUE(state_.apply(message(1, 0x2a, 3)).ok());
  EXPECT_EQ(inbox().uidl(inbox().messages()[0]), "old-server-uidl-17");
  EXPECT_EQ(inbox().uidl(inbox().messages()[1]), "0000002A000003E8");  // %08Xu%08Xv
  ASSERT_TRUE(state_.apply(Expunged{1, 4, {1}}).ok());
  EXPECT_EQ(inbox().uidl(inbox().messages()[0]), "0000002A000003E8");
}

TEST_F(AccountStateTest, FoldersAreCreatedRenamedAndDeletedByIdAndName) {
  EXPECT_EQ(state_.folder_named("inbox"), state_.folder(1));  // INBOX in any case
  EXPECT_EQ(state_.folder_named("sent"), nullptr);            // other names as they are
  EXPECT_FALSE(state_.apply(FolderCreated{3, "Inbox", 1002, SpecialUse::none}).ok());
  EXPECT_FALSE(state_.apply(FolderCreated{2, "Again", 1002, SpecialUse::none}).ok());  // id used
  EXPECT_FALSE(state_.apply(FolderCreated{3, "a//b", 1002, SpecialUse::none}).ok());
  EXPECT_FALSE(state_.apply(FolderCreated{3, "/a", 1002, SpecialUse::none}).ok());
  EXPECT_FALSE(state_.apply(FolderCreated{3, "a\tb", 1002, SpecialUse::none}).ok());
  ASSERT_TRUE(state_.apply(FolderCreated{3, "Lists/Dev ✓", 1002, SpecialUse::none}).ok());
  EXPECT_EQ(state_.next_folder_id(), 4u);
  EXPECT_EQ(state_.next_uidvalidity(900), 1003u);  // above every one given
  EXPECT_EQ(state_.next_uidvalidity(5000), 5000u);
  EXPECT_FALSE(state_.apply(FolderRenamed{3, "Sent"}).ok());
  EXPECT_FALSE(state_.apply(FolderRenamed{1, "Old"}).ok());  // INBOX
  ASSERT_TRUE(state_.apply(FolderRenamed{3, "Lists/Old"}).ok());
  EXPECT_EQ(state_.folder_named("Lists/Old")->id(), 3u);
  EXPECT_EQ(state_.folder_named("Lists/Dev ✓"), nullptr);
  EXPECT_FALSE(state_.apply(FolderDeleted{1}).ok());
  ASSERT_TRUE(state_.apply(FolderDeleted{3}).ok());
  EXPECT_EQ(state_.folder(3), nullptr);
  // Its id is never given again; its name may be, with a new UIDVALIDITY.
  EXPECT_FALSE(state_.apply(FolderCreated{3, "Lists/Old", 1003, SpecialUse::none}).ok());
  ASSERT_TRUE(
      state_.apply(FolderCreated{4, "Lists/Old", state_.next_uidvalidity(0), SpecialUse::none})
          .ok());
  EXPECT_EQ(state_.folder(4)->uidvalidity(), 1003u);
  std::vector<std::string> names;
  for (const Folder* f : state_.folders()) names.push_back(f->name());
  EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Lists/Old", "Sent"}));
}

TEST_F(AccountStateTest, SubscriptionsAreByName) {
  ASSERT_TRUE(state_.apply(Subscribed{"Not/There/Yet", true}).ok());
  ASSERT_TRUE(state_.apply(Subscribed{"Sent", true}).ok());
  ASSERT_TRUE(state_.apply(Subscribed{"Sent", false}).ok());
  EXPECT_TRUE(state_.subscribed("Not/There/Yet"));
  EXPECT_FALSE(state_.subscribed("Sent"));
}

// The same changes replayed into a new state give the same state: what a restart sees.
TEST_F(AccountStateTest, ReplayGivesTheSameState) {
  std::vector<Change> log = {FolderCreated{1, "INBOX", 1000, SpecialUse::none},
                             FolderCreated{2, "Sent", 1001, SpecialUse::sent}};
  auto record = [&](Change c) {
    ASSERT_TRUE(state_.apply(c).ok());
    log.push_back(decode_change(encode_change(c)).value());
  };
  for (uint32_t uid = 1; uid <= 50; uid++) record(message(1 + uid % 2, uid, uid + 1));
  record(KeywordDefined{1, 0, "Junk"});
  record(FlagsChanged{1, 60, {{2, flag_seen, 1}, {4, flag_answered, 0}}});
  record(Expunged{2, 61, {1, 3, 5}});
  AccountState replayed;
  for (const Change& c : log) ASSERT_TRUE(replayed.apply(c).ok());
  for (uint32_t id : {1u, 2u}) {
    const Folder& a = *state_.folder(id);
    const Folder& b = *replayed.folder(id);
    EXPECT_EQ(a.uidnext(), b.uidnext());
    EXPECT_EQ(a.highest_modseq(), b.highest_modseq());
    ASSERT_EQ(a.messages().size(), b.messages().size());
    for (size_t i = 0; i < a.messages().size(); i++) {
      EXPECT_EQ(a.messages()[i].uid, b.messages()[i].uid);
      EXPECT_EQ(a.messages()[i].flags, b.messages()[i].flags);
      EXPECT_EQ(a.messages()[i].keywords, b.messages()[i].keywords);
      EXPECT_EQ(a.messages()[i].modseq, b.messages()[i].modseq);
      EXPECT_EQ(a.messages()[i].blob, b.messages()[i].blob);
    }
  }
}

}  // namespace
}  // namespace postcore::mailstore
