#include "control/migrate/read_file.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

namespace postcore::migrate {
namespace {

TEST(ReadFile, ReadsEveryByte) {
  char dir[] = "/tmp/migrate_read_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/accounts.txt";
  const char raw[] = "Name\tPassword\r\nbob\t\0x\r\n\x1A";
  std::string bytes(raw, sizeof raw - 1);
  std::ofstream(path, std::ios::binary) << bytes;
  auto read = read_file(path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, bytes);

  auto directory = read_file(dir);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, EISDIR);
  EXPECT_EQ(directory.error().message, std::string(dir) + ": is a directory");

  unlink(path.c_str());
  rmdir(dir);
  auto missing = read_file(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_EQ(missing.error().message, path + ": No such file or directory");
}

}  // namespace
}  // namespace postcore::migrate
