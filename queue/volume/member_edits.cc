#include "queue/volume/member_edits.h"

#include <algorithm>
#include <string_view>

#include "queue/volume/small_file.h"

namespace postcore::volume {

std::vector<std::string> apply_member_edits(std::vector<std::string> members,
                                            const std::string& edits_path) {
  auto text = read_small_file(edits_path);
  if (!text) return members;
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::string_view line = next_line(rest);
    if (line.starts_with("add ")) {
      std::string root(line.substr(4));
      if (std::find(members.begin(), members.end(), root) == members.end())
        members.push_back(std::move(root));
    } else if (line.starts_with("remove ")) {
      std::erase(members, std::string(line.substr(7)));
    }
  }
  return members;
}

Result<void> record_member_edit(const std::string& edits_path, const std::string& verb,
                                const std::string& root) {
  std::string text;
  if (auto old = read_small_file(edits_path)) text = *old;
  text += verb + " " + root + "\n";
  return write_file_durably(edits_path, text);
}

}  // namespace postcore::volume
