// DirectoryWatcher: follows the control plane's published directory snapshot. Runs on the
// dataplane's main thread, never on a reactor: loading and indexing a large directory
// takes milliseconds that a reactor must not spend. A new snapshot is handed out as an
// immutable Directory; the reactors swap it in between transactions.
//
// The dataplane never waits for the control plane: with no control plane, or one that
// died, the last snapshot stays in force; a snapshot that fails to load is logged and
// the previous one kept.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control/directory/directory.h"
#include "control/directory/snapshot_file.h"

namespace postcore::server {

class DirectoryWatcher {
 public:
  using Publish = std::function<void(std::shared_ptr<const directory::Directory>)>;

  DirectoryWatcher(std::string snapshot_dir, Publish publish);

  // Checks the snapshot's stamp and, when it changed, loads and publishes it. Cheap when
  // nothing changed (one open, fstat and a 28-byte read): call it every ~200 ms.
  void poll();

 private:
  std::string dir_;
  Publish publish_;
  std::optional<directory::SnapshotStamp> last_;
  bool reported_missing_ = false;
};

}  // namespace postcore::server
