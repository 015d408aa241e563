// The mail shard keeps what it answered: appends, flag changes and expunges survive a
// power cut at any point of their writes, a message for many mailboxes is stored once
// and released when the last one expunges it, UIDs are never handed out twice, and
// answers come in the order the changes were made.
#include "queue/mailstore/mail_shard.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "queue/volume/fake_file_io.h"

namespace postcore::mailstore {
namespace {

using volume::FakeFileIo;

const std::string kRoot = "/data/mail";

MailShardOptions options() {
  MailShardOptions o;
  o.root = kRoot;
  o.shard = 0;
  o.segment_bytes = 16 << 10;  // small, so a run crosses segment boundaries
  o.write_buffer_bytes = 4 << 10;
  return o;
}

// Runs flushes and completions until nothing is left to do.
void pump(FakeFileIo& io, MailShard& shard) {
  for (int i = 0; i < 100000; i++) {
    shard.flush();
    if (io.run_pending() == 0) {
      shard.flush();
      if (io.pending() == 0 && shard.pending() == 0) return;
    }
  }
  FAIL() << "the shard never settled";
}

std::string body(int n) {
  std::string b = "Subject: message " + std::to_string(n) + "\r\n\r\n";
  for (int i = 0; i < n % 7 + 1; i++)
    b += "line " + std::to_string(i) + " of " + std::to_string(n) + "\r\n";
  return b;
}

std::string read_all(const MailShard& shard, uint64_t blob) {
  std::string out;
  auto ok = shard.read(blob, [&](std::string_view piece) -> Result<void> {
    out.append(piece);
    return {};
  });
  EXPECT_TRUE(ok.ok()) << (ok ? "" : ok.error().message);
  return out;
}

// Starts an append of `octets` to `targets`; `*answer` is set when it is answered.
void start_append(MailShard& shard, const std::string& octets, std::vector<AppendTarget> targets,
                  std::optional<Result<std::vector<AppendedAt>>>* answer) {
  auto handle = shard.begin_message();
  ASSERT_TRUE(handle.ok());
  shard.write(*handle, octets.substr(0, octets.size() / 2));
  shard.write(*handle, octets.substr(octets.size() / 2));
  shard.append(*handle, std::move(targets), 1700000000, 60,
               [answer](Result<std::vector<AppendedAt>> r) { *answer = std::move(r); });
}

AppendTarget to(const std::string& account, const std::string& delivery = {}) {
  AppendTarget t;
  t.account = account;
  t.delivery = delivery;
  return t;
}

const Message* find(const MailShard& shard, const std::string& account, uint32_t uid) {
  const AccountState* a = shard.account(account);
  if (!a) return nullptr;
  const Folder* inbox = a->folder_named("INBOX");
  if (!inbox) return nullptr;
  auto i = inbox->index_of(uid);
  return i ? &inbox->messages()[*i] : nullptr;
}

TEST(MailShard, OneMessageForThreeMailboxesIsStoredOnceAndSurvivesRestart) {
  FakeFileIo io;
  std::string octets = body(3);
  {
    MailShard shard(io, options());
    ASSERT_TRUE(shard.open().ok());
    std::optional<Result<std::vector<AppendedAt>>> answer;
    start_append(shard, octets,
                 {to("alice@example.com", "Q1/0"), to("bob@example.com", "Q1/1"),
                  to("carol@example.com", "Q1/2")},
                 &answer);
    EXPECT_FALSE(answer.has_value());
    EXPECT_FALSE(shard.visible("alice@example.com", 1, 1));  // not durable yet
    pump(io, shard);
    ASSERT_TRUE(answer.has_value() && answer->ok());
    ASSERT_EQ((*answer)->size(), 3u);
    for (const AppendedAt& at : **answer) EXPECT_EQ(at.uid, 1u);
    EXPECT_TRUE(shard.visible("alice@example.com", 1, 1));
    const Message* a = find(shard, "alice@example.com", 1);
    const Message* b = find(shard, "bob@example.com", 1);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->blob, b->blob);
    EXPECT_EQ(a->size, octets.size());
    EXPECT_EQ(read_all(shard, a->blob), octets);
  }
  io.crash();
  MailShard shard(io, options());
  auto report = shard.open();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->accounts, 3u);
  EXPECT_EQ(report->messages, 3u);
  EXPECT_EQ(report->blobs, 1u);
  EXPECT_EQ(report->changes_skipped, 0u);
  const Message* c = find(shard, "carol@example.com", 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(read_all(shard, c->blob), octets);
  EXPECT_TRUE(shard.account("carol@example.com")->delivered("Q1/2"));
  const Folder* inbox = shard.account("carol@example.com")->folder_named("INBOX");
  char uidl[32];
  snprintf(uidl, sizeof uidl, "%08X%08X", c->uid, inbox->uidvalidity());
  EXPECT_EQ(inbox->uidl(*c), uidl);
}

Result<void> expunge_one(FakeFileIo& io, MailShard& shard, const std::string& account,
                         uint32_t uid) {
  std::optional<Result<void>> expunged;
  const uint64_t modseq = shard.account(account)->folder(1)->highest_modseq() + 1;
  shard.change(account, Expunged{1, modseq, {uid}}, [&](Result<void> r) { expunged = r; });
  pump(io, shard);
  return expunged ? *expunged : make_error(EAGAIN, "not answered");
}

TEST(MailShard, TheLastExpungeReleasesTheOctets) {
  FakeFileIo io;
  uint64_t blob = 0;
  {
    MailShard shard(io, options());
    ASSERT_TRUE(shard.open().ok());
    std::optional<Result<std::vector<AppendedAt>>> answer;
    start_append(shard, body(1), {to("a@x.org"), to("b@x.org")}, &answer);
    pump(io, shard);
    ASSERT_TRUE(answer && answer->ok());
    blob = find(shard, "a@x.org", 1)->blob;

    ASSERT_TRUE(expunge_one(io, shard, "a@x.org", 1).ok());
    EXPECT_EQ(read_all(shard, blob), body(1));  // b still holds it
  }
  io.crash();
  {
    MailShard shard(io, options());
    auto report = shard.open();
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->messages, 1u);
    EXPECT_EQ(report->blobs, 1u);
    EXPECT_EQ(find(shard, "a@x.org", 1), nullptr);
    EXPECT_EQ(shard.account("a@x.org")->folder(1)->uidnext(), 2u);

    ASSERT_TRUE(expunge_one(io, shard, "b@x.org", 1).ok());
  }
  io.crash();
  MailShard shard(io, options());
  auto report = shard.open();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->messages, 0u);
  EXPECT_EQ(report->blobs, 0u);
  EXPECT_EQ(report->blob.messages, 0u);   // released: the segment can go
  EXPECT_EQ(report->blobs_released, 0u);  // because the release was durable before the cut
}

// POP3 deletes everything, the octets' segments are reclaimed, the power goes: the UIDs and
// deliveries of the deleted messages still count, so neither a UID nor a delivery comes back.
TEST(MailShard, ExpungedMessagesKeepTheirUidsAndDeliveriesAfterTheirOctetsAreReclaimed) {
  FakeFileIo io;
  uint64_t highest_modseq = 0;
  {
    MailShard shard(io, options());
    ASSERT_TRUE(shard.open().ok());
    for (int i = 0; i < 12; i++) {
      std::optional<Result<std::vector<AppendedAt>>> answer;
      start_append(shard, body(i) + std::string(3000, 'r') + "\r\n",
                   {to("p@x.org", "Q" + std::to_string(i))}, &answer);
      pump(io, shard);
      ASSERT_TRUE(answer && answer->ok());
    }
    std::vector<uint32_t> uids;
    for (const Message& m : shard.account("p@x.org")->folder(1)->messages()) uids.push_back(m.uid);
    std::optional<Result<void>> expunged;
    shard.change("p@x.org",
                 Expunged{1, shard.account("p@x.org")->folder(1)->highest_modseq() + 1, uids},
                 [&](Result<void> r) { expunged = r; });
    pump(io, shard);
    ASSERT_TRUE(expunged && expunged->ok());
    highest_modseq = shard.account("p@x.org")->folder(1)->highest_modseq();
    auto reclaimed = shard.reclaim();
    ASSERT_TRUE(reclaimed.ok());
    EXPECT_GT(*reclaimed, 0u);  // sealed segments of released octets are gone
  }
  io.crash();
  MailShard shard(io, options());
  auto report = shard.open();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->changes_skipped, 0u);
  EXPECT_EQ(report->appends_discarded, 0u);
  const Folder* inbox = shard.account("p@x.org")->folder(1);
  EXPECT_TRUE(inbox->messages().empty());
  EXPECT_EQ(inbox->uidnext(), 13u);
  EXPECT_EQ(inbox->highest_modseq(), highest_modseq);
  for (int i = 0; i < 12; i++)
    EXPECT_TRUE(shard.account("p@x.org")->delivered("Q" + std::to_string(i))) << i;
}

TEST(MailShard, ARefusedChangeIsAnsweredWithWhyAndChangesNothing) {
  FakeFileIo io;
  MailShard shard(io, options());
  ASSERT_TRUE(shard.open().ok());
  std::optional<Result<std::vector<AppendedAt>>> answer;
  start_append(shard, body(2), {to("a@x.org", "Q/0")}, &answer);
  pump(io, shard);
  ASSERT_TRUE(answer && answer->ok());

  std::optional<Result<void>> flags;
  shard.change("a@x.org", FlagsChanged{1, 1, {{1, flag_seen, 0}}},  // modseq does not rise
               [&](Result<void> r) { flags = r; });
  pump(io, shard);
  ASSERT_TRUE(flags.has_value());
  EXPECT_FALSE(flags->ok());
  EXPECT_EQ(find(shard, "a@x.org", 1)->flags, 0);

  answer.reset();
  start_append(shard, body(2), {to("a@x.org", "Q/0")}, &answer);  // the same delivery again
  pump(io, shard);
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->error().code, EEXIST);
  EXPECT_EQ(shard.account("a@x.org")->folder(1)->messages().size(), 1u);
  EXPECT_FALSE(shard.failed());
}

TEST(MailShard, AnswersComeInTheOrderOfTheChanges) {
  FakeFileIo io;
  MailShard shard(io, options());
  ASSERT_TRUE(shard.open().ok());
  std::vector<int> order;
  for (int i = 0; i < 40; i++) {
    if (i % 3 == 0 && i > 0) {
      const Folder* inbox = shard.account("a@x.org")->folder(1);
      shard.change("a@x.org", FlagsChanged{1, inbox->highest_modseq() + 1, {{1, flag_flagged, 0}}},
                   [&order, i](Result<void> r) {
                     EXPECT_TRUE(r.ok());
                     order.push_back(i);
                   });
      continue;
    }
    auto handle = shard.begin_message();
    ASSERT_TRUE(handle.ok());
    shard.write(*handle, body(i) + std::string(static_cast<size_t>(i) * 300, 'x') + "\r\n");
    shard.append(*handle, {to("a@x.org")}, 1700000000 + i, 0,
                 [&order, i](Result<std::vector<AppendedAt>> r) {
                   EXPECT_TRUE(r.ok());
                   order.push_back(i);
                 });
    if (i % 5 == 0) shard.flush();
    io.run_one();
  }
  pump(io, shard);
  ASSERT_EQ(order.size(), 40u);
  for (int i = 0; i < 40; i++) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

// The model of what must survive: every answered append (by delivery key) with its UID,
// and the flags answered for it.
struct Answered {
  std::map<std::string, uint32_t> uid_of;  // delivery -> uid
  std::map<uint32_t, uint8_t> flags;       // uid -> flags last answered
  uint32_t highest_uid = 0;
};

// Proposes `count` appends and flag changes, lets only `steps` I/O completions happen
// (flushing between them), then cuts the power (torn when `torn_seed` is set).
void run_until_cut(FakeFileIo& io, int count, size_t steps, std::optional<uint64_t> torn_seed,
                   Answered& answered) {
  MailShard shard(io, options());
  ASSERT_TRUE(shard.open().ok());
  size_t done_steps = 0;
  for (int i = 0; i < count; i++) {
    const std::string delivery = "D" + std::to_string(i);
    if (i % 4 == 3) {
      const AccountState* a = shard.account("u@x.org");
      const Folder* inbox = a ? a->folder(1) : nullptr;
      if (inbox && !inbox->messages().empty()) {
        const uint32_t uid = inbox->messages().back().uid;
        const uint8_t flags = static_cast<uint8_t>((i % 2) ? flag_seen : flag_answered);
        shard.change("u@x.org", FlagsChanged{1, inbox->highest_modseq() + 1, {{uid, flags, 0}}},
                     [&answered, uid, flags](Result<void> r) {
                       if (r) answered.flags[uid] = flags;
                     });
      }
    } else {
      auto handle = shard.begin_message();
      ASSERT_TRUE(handle.ok());
      shard.write(*handle, body(i) + std::string(static_cast<size_t>(i % 5) * 900, 'y') + "\r\n");
      shard.append(*handle, {to("u@x.org", delivery)}, 1700000000 + i, 0,
                   [&answered, delivery](Result<std::vector<AppendedAt>> r) {
                     if (!r) return;
                     const uint32_t uid = (*r)[0].uid;
                     answered.uid_of[delivery] = uid;
                     answered.highest_uid = std::max(answered.highest_uid, uid);
                   });
    }
    shard.flush();
    for (int k = 0; k < 2 && done_steps < steps; k++) {
      if (io.run_one()) done_steps++;
      shard.flush();
    }
  }
  while (done_steps < steps) {
    shard.flush();
    if (!io.run_one()) break;
    done_steps++;
  }
  shard.flush();
  if (torn_seed) {
    io.crash_torn(*torn_seed);
  } else {
    io.crash();
  }
}

void check_after_cut(FakeFileIo& io, const Answered& answered, const std::string& label) {
  MailShard shard(io, options());
  auto report = shard.open();
  ASSERT_TRUE(report.ok()) << label << ": " << report.error().message;
  EXPECT_TRUE(report->log.corruption.empty()) << label;
  const AccountState* a = shard.account("u@x.org");
  if (answered.uid_of.empty() && !a) return;
  ASSERT_TRUE(a) << label;
  const Folder* inbox = a->folder(1);
  ASSERT_TRUE(inbox) << label;
  for (const auto& [delivery, uid] : answered.uid_of) {
    EXPECT_TRUE(a->delivered(delivery)) << label << ": lost " << delivery;
    auto i = inbox->index_of(uid);
    ASSERT_TRUE(i.has_value()) << label << ": lost uid " << uid;
    const Message& m = inbox->messages()[*i];
    const int n = std::stoi(delivery.substr(1));
    EXPECT_EQ(read_all(shard, m.blob),
              body(n) + std::string(static_cast<size_t>(n % 5) * 900, 'y') + "\r\n")
        << label;
  }
  for (const auto& [uid, flags] : answered.flags) {
    auto i = inbox->index_of(uid);
    ASSERT_TRUE(i.has_value()) << label;
    // A later flag change may have been made durable without its answer; never an older one.
    EXPECT_NE(inbox->messages()[*i].flags, 0) << label << ": uid " << uid;
    (void)flags;
  }
  // A delivery the account remembers is one it holds: an append whose octets a cut tore
  // is discarded with its delivery, so the spool delivers it again.
  size_t remembered = 0;
  for (int i = 0; i < 24; i++) remembered += a->delivered("D" + std::to_string(i)) ? 1 : 0;
  EXPECT_EQ(remembered, inbox->messages().size()) << label;
  // Each delivery at most once, and a new one gets a UID never answered before.
  std::set<uint64_t> blobs;
  for (const Message& m : inbox->messages()) EXPECT_TRUE(blobs.insert(m.blob).second) << label;
  std::optional<Result<std::vector<AppendedAt>>> answer;
  start_append(shard, body(999), {to("u@x.org", "after")}, &answer);
  pump(io, shard);
  ASSERT_TRUE(answer && answer->ok()) << label;
  EXPECT_GT((**answer)[0].uid, answered.highest_uid) << label;
}

TEST(MailShard, PowerCutAtEveryStepLosesNothingAnswered) {
  size_t most_answered = 0;
  for (size_t steps = 0; steps < 120; steps++) {
    FakeFileIo io;
    Answered answered;
    run_until_cut(io, 24, steps, std::nullopt, answered);
    most_answered = std::max(most_answered, answered.uid_of.size());
    check_after_cut(io, answered, "cut after " + std::to_string(steps) + " steps");
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(most_answered, 18u);  // the longest runs answered every append before the cut
}

TEST(MailShard, TornPowerCutsLoseNothingAnswered) {
  for (uint64_t seed = 1; seed <= 40; seed++) {
    FakeFileIo io;
    Answered answered;
    run_until_cut(io, 24, seed % 30, seed, answered);
    check_after_cut(io, answered, "torn cut, seed " + std::to_string(seed));
    if (HasFatalFailure()) return;
  }
}

TEST(MailShard, AFailedLogWriteStopsTheShard) {
  FakeFileIo io;
  MailShard shard(io, options());
  ASSERT_TRUE(shard.open().ok());
  io.inject(FakeFileIo::Fault::eio_on_datasync, 1000);
  std::optional<Result<std::vector<AppendedAt>>> first;
  start_append(shard, body(1), {to("a@x.org")}, &first);
  pump(io, shard);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->ok());
  EXPECT_TRUE(shard.failed());
  EXPECT_FALSE(shard.begin_message().ok());
  std::optional<Result<void>> later;
  shard.change("a@x.org", Subscribed{"INBOX", true}, [&](Result<void> r) { later = r; });
  pump(io, shard);
  ASSERT_TRUE(later.has_value());
  EXPECT_FALSE(later->ok());
}

}  // namespace
}  // namespace postcore::mailstore
