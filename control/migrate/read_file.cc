#include "control/migrate/read_file.h"

#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace postcore::migrate {

Result<std::string> read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(errno, path + ": " + std::strerror(errno));
  // Reading a directory "succeeds" with no bytes on Linux, which would look like an empty
  // import; say what it is instead.
  if (S_ISDIR(st.st_mode)) return make_error(EISDIR, path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errno ? errno : EIO, path + ": cannot open: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(EIO, path + ": read error");
  return bytes;
}

}  // namespace postcore::migrate
