#include "dataplane/server/directory_watcher.h"

#include <cerrno>

#include "common/log.h"

namespace postcore::server {

DirectoryWatcher::DirectoryWatcher(std::string snapshot_dir, Publish publish)
    : dir_(std::move(snapshot_dir)), publish_(std::move(publish)) {}

void DirectoryWatcher::poll() {
  auto stamp = directory::snapshot_stamp(dir_);
  if (!stamp) {
    if (stamp.error().code != ENOENT)
      log::warning("directory", "{}: {}", dir_, stamp.error().message);
    else if (!reported_missing_)
      log::info("directory", "no directory snapshot in {} yet: local domains from the profile",
                dir_);
    reported_missing_ = true;
    return;
  }
  if (last_ && *last_ == *stamp) return;
  auto data = directory::load_snapshot(dir_);
  if (!data) {
    // Most likely a replacement raced with the read; the next poll sees the new stamp.
    log::warning("directory", "keeping the previous directory: {}", data.error().message);
    return;
  }
  uint64_t version = data->version;
  auto built = directory::Directory::build(std::move(*data));
  last_ = *stamp;  // a snapshot that does not build is not retried until it is replaced
  if (!built) {
    log::error("directory", "snapshot version {} refused, keeping the previous one: {}", version,
               built.error().message);
    return;
  }
  log::info("directory", "directory version {} in effect", version);
  publish_(std::move(*built));
}

}  // namespace postcore::server
