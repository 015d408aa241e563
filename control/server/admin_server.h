// AdminServer: the control plane's admin API on a Unix socket in the data directory.
// Single-threaded poll loop: requests are small and the store serializes changes
// anyway. Each connection carries frames (control/api/frame.h); each request frame is
// {"cmd": NAME, "args": {...}} and gets one reply frame:
//   {"ok": true, "result": ...}  or  {"ok": false, "error": {"code": C, "message": M}}
// with C one of not_found, exists, invalid, conflict, denied, unavailable, internal.
// A peer that is neither root nor in the admin group is refused and logged; a peer that
// sends a malformed or oversized frame gets an error reply and is disconnected. Nothing
// a peer sends can stop the server.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "control/api/frame.h"
#include "control/server/peer_access.h"

namespace postcore::control {

using Dispatch = std::function<Result<nlohmann::json>(const Peer& peer, const std::string& command,
                                                      const nlohmann::json& args)>;

struct AdminServerOptions {
  std::string socket_path;
  std::optional<gid_t> admin_group;
  size_t max_clients = 64;
  std::chrono::seconds idle_timeout{60};
  size_t max_frame_bytes = api::kMaxFrameBytes;
};

// Maps an Error's errno code to the reply's error code.
std::string error_code_name(int code);
nlohmann::json error_reply(const Error& e);

class AdminServer {
 public:
  AdminServer(AdminServerOptions options, Dispatch dispatch);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds the socket (replacing a stale one), mode 0660, group = the admin group.
  Result<void> listen();
  // Serves until `stop` becomes true; runs `tick` at least every 200 ms.
  void serve(const std::atomic<bool>& stop, const std::function<void()>& tick);

 private:
  struct Client;
  void accept_clients();
  void serve_client(Client& c);
  void handle_frame(Client& c, const nlohmann::json& request);

  AdminServerOptions options_;
  Dispatch dispatch_;
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace postcore::control
