// AdminClient: the client side of the admin API (postcorectl, and the dataplane reporting
// rehashed passwords): one connection, one request at a time, a bounded wait for each
// reply.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "control/api/frame.h"

namespace postcore::api {

class AdminClient {
 public:
  ~AdminClient();

  // ECONNREFUSED/ENOENT in the error mean the control plane is not running.
  static Result<AdminClient> connect(const std::string& socket_path,
                                     std::chrono::seconds timeout = std::chrono::seconds(60));

  AdminClient(AdminClient&& other) noexcept;
  AdminClient& operator=(AdminClient&&) = delete;

  // Sends {"cmd", "args"} and returns the reply's "result", or the reply's error as an
  // Error whose code is the errno matching its error code.
  Result<nlohmann::json> call(const std::string& command, const nlohmann::json& args);

 private:
  AdminClient(int fd, std::chrono::seconds timeout) : fd_(fd), timeout_(timeout) {}
  int fd_ = -1;
  std::chrono::seconds timeout_;
  api::FrameReader reader_;
};

// The errno for a reply error code (inverse of the server's error_code_name).
int errno_of_code(const std::string& code);

}  // namespace postcore::api
