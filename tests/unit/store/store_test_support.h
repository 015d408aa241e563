// A fresh store in a temporary directory per test, and shorthands for the objects the
// tests create.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "control/store/store.h"

namespace postcore::store::testing {

// Fails the test with the error's message unless `result` is ok.
#define STORE_OK(expr)                                                    \
  do {                                                                    \
    auto store_ok_result = (expr);                                        \
    ASSERT_TRUE(store_ok_result.ok()) << store_ok_result.error().message; \
  } while (0)

// Expects an error with exactly this code and message.
#define STORE_ERROR(expr, expected_code, expected_message)                       \
  do {                                                                           \
    auto store_error_result = (expr);                                            \
    ASSERT_FALSE(store_error_result.ok()) << "expected: " << (expected_message); \
    EXPECT_EQ(store_error_result.error().code, (expected_code));                 \
    EXPECT_EQ(store_error_result.error().message, (expected_message));           \
  } while (0)

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline const Actor kAdmin{1000, "test"};

inline directory::Account account(std::string name, std::string domain,
                                  std::string real_name = "") {
  directory::Account a;
  a.name = std::move(name);
  a.domain = std::move(domain);
  a.real_name = std::move(real_name);
  a.password_hash = "$6$salt$hash";
  return a;
}

inline directory::Group group(std::string name, std::string domain,
                              std::vector<std::string> members = {}) {
  return directory::Group{std::move(name), std::move(domain), "", std::move(members)};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = Store::open(path(), options_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }

  std::string path() const { return dir_.file("config.db"); }
  Store& store() { return *store_; }

  uint64_t version() {
    auto v = store_->version();
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : 0;
  }

  size_t audit_rows() {
    auto rows = store_->audit(1000000);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows->size() : 0;
  }

  AuditEntry last_audit() {
    auto rows = store_->audit(1);
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && !rows->empty() ? rows->back() : AuditEntry{};
  }

  TempDir dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

}  // namespace postcore::store::testing
