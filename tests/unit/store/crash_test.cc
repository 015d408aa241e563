// kill -9 in the middle of writing: a child process writes through its own Store and is
// killed at an arbitrary moment; the reopened database must be intact, hold every
// transaction the child saw committed, and nothing of the one in progress.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

// Tells the parent a line (the child's progress) through a pipe.
void say(int fd, const std::string& line) {
  std::string text = line + "\n";
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(3);
}

// Reads lines from the child until one equals `wanted`; collects all of them.
bool read_until(FILE* from, const std::string& wanted, std::vector<std::string>* lines) {
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, from) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines->push_back(line);
    if (line == wanted) return true;
  }
  return false;
}

std::string integrity(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open";
  std::string out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// Forks a child that runs `work(store, progress fd)` on its own connection and never
// returns; the parent waits for the line `ready`, lets it run `grace_us` more, kills it
// with SIGKILL and returns every line the child wrote.
template <typename Work>
std::vector<std::string> run_and_kill(const std::string& path, const std::string& ready,
                                      useconds_t grace_us, Work work) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    auto store = Store::open(path);
    if (!store) _exit(2);
    work(**store, fds[1]);
    _exit(4);  // the work never ends on its own
  }
  close(fds[1]);
  FILE* from = fdopen(fds[0], "r");
  std::vector<std::string> lines;
  EXPECT_TRUE(read_until(from, ready, &lines)) << "the child ended early";
  usleep(grace_us);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  // Whatever the child wrote before it died.
  read_until(from, "", &lines);
  fclose(from);
  return lines;
}

TEST(CrashTest, KilledInTheMiddleOfATransactionLeavesOnlyCommittedData) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  for (int round = 0; round < 3; ++round) {
    constexpr int kCommitted = 20;
    // The last round runs long enough for the open transaction to outgrow SQLite's page
    // cache, so uncommitted pages are already in the WAL file when the kill comes.
    const int inside_after = round < 2 ? 1000 : 40000;
    auto lines = run_and_kill(path, "inside", 20000 * round, [&](Store& store, int out) {
      if (round == 0) {
        if (!store.add_domain(kAdmin, "example.com")) _exit(5);
      }
      for (int i = 0; i < kCommitted; ++i) {
        if (!store.add_account(kAdmin, account(fmt::format("r{}c{}", round, i), "example.com")))
          _exit(5);
      }
      say(out, "committed");
      (void)store.transaction([&](Store& s) -> Result<void> {
        for (int i = 0;; ++i) {
          if (auto r =
                  s.add_account(kAdmin, account(fmt::format("r{}u{}", round, i), "example.com"));
              !r)
            _exit(6);
          if (i == inside_after) say(out, "inside");
        }
      });
    });
    ASSERT_NE(std::find(lines.begin(), lines.end(), "committed"), lines.end());
    if (round == 2) {
      std::error_code error;
      const auto wal_bytes = std::filesystem::file_size(path + "-wal", error);
      EXPECT_GT(wal_bytes, 4u << 20) << "the uncommitted transaction never reached the WAL";
    }
    EXPECT_EQ(integrity(path), "ok");
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto accounts = (*store)->list_accounts("example.com");
    ASSERT_TRUE(accounts.ok());
    std::set<std::string> names;
    for (const auto& a : *accounts) names.insert(a.name);
    EXPECT_EQ(names.size(), static_cast<size_t>(kCommitted * (round + 1))) << "round " << round;
    for (int i = 0; i < kCommitted; ++i)
      EXPECT_TRUE(names.count(fmt::format("r{}c{}", round, i))) << i;
    for (const auto& name : names)
      EXPECT_EQ(name.find('u'), std::string::npos) << "uncommitted " << name << " survived";
    // Version and audit trail agree with what was committed.
    EXPECT_EQ(*(*store)->version(), 1u + kCommitted * (round + 1));
    EXPECT_EQ((*store)->audit(1000000)->size(), 1u + kCommitted * (round + 1));
  }
}

TEST(CrashTest, KilledWhileCommittingBatchesKeepsWholeBatches) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok());
    STORE_OK((*store)->add_domain(kAdmin, "example.com"));
  }
  constexpr int kBatch = 50;
  auto lines = run_and_kill(path, "batch 3", 30000, [&](Store& store, int out) {
    for (int batch = 1;; ++batch) {
      auto committed = store.transaction([&](Store& s) -> Result<void> {
        for (int i = 0; i < kBatch; ++i)
          if (auto r =
                  s.add_account(kAdmin, account(fmt::format("b{}n{}", batch, i), "example.com"));
              !r)
            return r;
        return {};
      });
      if (!committed) _exit(6);
      say(out, fmt::format("batch {}", batch));
    }
  });
  int last_reported = 0;
  for (const auto& line : lines)
    if (line.starts_with("batch ")) last_reported = std::stoi(line.substr(6));
  ASSERT_GE(last_reported, 3);
  EXPECT_EQ(integrity(path), "ok");
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto accounts = (*store)->list_accounts("example.com");
  ASSERT_TRUE(accounts.ok());
  // Every reported batch is there; at most one more (committed, not yet reported); and
  // no batch is there in part.
  const size_t count = accounts->size();
  EXPECT_EQ(count % kBatch, 0u) << count;
  EXPECT_GE(count, static_cast<size_t>(last_reported * kBatch));
  EXPECT_LE(count, static_cast<size_t>((last_reported + 1) * kBatch));
  EXPECT_EQ(*(*store)->version(), 1u + count / kBatch);
  std::printf("[ figures  ] killed after %d reported batches; %zu accounts survived\n",
              last_reported, count);
}

}  // namespace
}  // namespace postcore::store::testing
