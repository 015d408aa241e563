// The address the operator's SSH session came in on, for the lockout guard of
// `postcorectl ip remove`: the server address of sshd's SSH_CONNECTION ("client-ip
// client-port server-ip server-port"). sudo and su usually drop the variable, so the
// nearest ancestor process that has it answers when this one does not.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postcore::cli {

std::optional<std::string> ssh_server_address();

// The server address of one SSH_CONNECTION value; nullopt unless it has four fields.
std::optional<std::string> server_address_of(std::string_view ssh_connection);

// SSH_CONNECTION's value in a /proc/PID/environ block (NUL-separated), if it is there.
std::optional<std::string> ssh_connection_in(std::string_view environ_block);

}  // namespace postcore::cli
