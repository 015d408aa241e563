// Groups, their members, and the refusal of group cycles.
#include <fmt/core.h>

#include <cerrno>
#include <unordered_map>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

// Member rows equal to an address, under any name of its domain when that domain is local:
// ?1 group, ?2 local part, ?3 domain as written.
constexpr std::string_view kSameMember =
    "group_id = ?1 AND local_part = ?2 AND domain IN (SELECT name FROM domain_names WHERE "
    "domain_id IN (SELECT domain_id FROM domain_names WHERE name = ?3) UNION SELECT ?3)";

}  // namespace

Result<std::vector<Store::GroupEdge>> Store::group_edges(int64_t group_id) {
  // Only members that are groups matter for cycles; accounts, aliases, forwarders and
  // outside addresses end the walk.
  auto rows = db_->query(
      "SELECT n.id, n.name || '@' || c.name FROM group_members m "
      "JOIN domain_names dn ON dn.name = m.domain "
      "JOIN local_names n ON n.domain_id = dn.domain_id AND n.name = m.local_part "
      "JOIN domain_names c ON c.domain_id = n.domain_id AND c.is_alias = 0 "
      "WHERE m.group_id = ? AND n.kind = 'group' ORDER BY m.rowid",
      group_id);
  if (!rows) return rows.error();
  std::vector<GroupEdge> edges;
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) return edges;
    edges.push_back(GroupEdge{rows->integer(0), rows->text(1)});
  }
}

Result<void> Store::refuse_group_cycles(const std::vector<GroupEdge>& starts) {
  // Depth-first walk with an explicit stack (nesting depth is up to the operator). The
  // stored graph has no cycle before the change, so any cycle found goes through the
  // change, and the walk from its group reports it starting there.
  enum class Mark { on_path, done };
  std::unordered_map<int64_t, Mark> marks;
  struct Frame {
    GroupEdge group;
    std::vector<GroupEdge> next;
    size_t taken = 0;
  };
  for (const GroupEdge& start : starts) {
    if (marks.count(start.id)) continue;
    std::vector<Frame> path;
    auto enter = [&](const GroupEdge& group) -> Result<void> {
      auto edges = group_edges(group.id);
      if (!edges) return edges.error();
      marks[group.id] = Mark::on_path;
      path.push_back(Frame{group, std::move(*edges)});
      return {};
    };
    if (auto r = enter(start); !r) return r;
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.taken == top.next.size()) {
        marks[top.group.id] = Mark::done;
        path.pop_back();
        continue;
      }
      const GroupEdge edge = top.next[top.taken++];
      auto mark = marks.find(edge.id);
      if (mark == marks.end()) {
        if (auto r = enter(edge); !r) return r;
        continue;
      }
      if (mark->second == Mark::done) continue;
      std::string cycle;
      bool in_cycle = false;
      for (const Frame& frame : path) {
        in_cycle = in_cycle || frame.group.id == edge.id;
        if (in_cycle) cycle += frame.group.address + " → ";
      }
      return make_error(ELOOP, fmt::format("group cycle: {}{}", cycle, edge.address));
    }
  }
  return {};
}

Result<std::string> Store::insert_member(const NameRef& group, std::string_view member,
                                         bool* inserted) {
  auto address = parse_address(member);
  if (!address) return address.error();
  auto present =
      db_->query_integer(fmt::format("SELECT count(*) FROM group_members WHERE {}", kSameMember),
                         group.id, address->local, address->domain);
  if (!present) return present.error();
  *inserted = present->value_or(0) == 0;
  if (*inserted) {
    if (auto r = db_->run("INSERT INTO group_members (group_id, local_part, domain) "
                          "VALUES (?, ?, ?)",
                          group.id, address->local, address->domain);
        !r)
      return r.error();
  }
  return address->text();
}

Result<void> Store::add_group(const Actor& actor, const directory::Group& group) {
  auto name = normalize_local_part(group.name);
  if (!name) return name.error();
  if (auto r = internal::check_text_field("real name", group.real_name); !r) return r;
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(group.domain);
    if (!domain) return domain.error();
    auto added = insert_name(*domain, *name, NameKind::group);
    if (!added) return added.error();
    if (auto r = db_->run("INSERT INTO mail_groups (id, real_name) VALUES (?, ?)", added->id,
                          group.real_name);
        !r)
      return r;
    std::vector<std::string> members;
    for (const auto& member : group.members) {
      bool inserted = false;
      auto text = insert_member(*added, member, &inserted);
      if (!text) return text.error();
      if (!inserted) return make_error(EINVAL, fmt::format("member {} given twice", *text));
      members.push_back(std::move(*text));
    }
    if (auto r = refuse_group_cycles({GroupEdge{added->id, added->address()}}); !r) return r;
    return record(actor, "group.add", added->address(),
                  fmt::format("real name \"{}\"; members {}", group.real_name,
                              members.empty() ? "(none)" : internal::join(members)));
  });
}

Result<void> Store::remove_group(const Actor& actor, std::string_view address) {
  return transaction([&](Store&) -> Result<void> {
    auto group = find_object(address, NameKind::group);
    if (!group) return group.error();
    auto members =
        db_->query_integer("SELECT count(*) FROM group_members WHERE group_id = ?", group->id);
    if (!members) return members.error();
    auto forgotten = forget_references(*group);
    if (!forgotten) return forgotten.error();
    if (auto r = db_->run("DELETE FROM local_names WHERE id = ?", group->id); !r) return r;
    return record(actor, "group.remove", group->address(),
                  fmt::format("had {} members{}", members->value_or(0),
                              references_detail(*forgotten, "removed from groups", "cleared")));
  });
}

Result<void> Store::set_group_real_name(const Actor& actor, std::string_view address,
                                        std::string_view real_name) {
  if (auto r = internal::check_text_field("real name", real_name); !r) return r;
  return transaction([&](Store&) -> Result<void> {
    auto group = find_object(address, NameKind::group);
    if (!group) return group.error();
    auto current = internal::only_row(read_groups({Scope::object, group->id}));
    if (!current) return current.error();
    if (current->real_name == real_name) return {};
    if (auto r =
            db_->run("UPDATE mail_groups SET real_name = ? WHERE id = ?", real_name, group->id);
        !r)
      return r;
    return record(actor, "group.set", group->address(),
                  fmt::format("real name \"{}\" → \"{}\"", current->real_name, real_name));
  });
}

Result<void> Store::add_group_member(const Actor& actor, std::string_view group_address,
                                     std::string_view member) {
  return transaction([&](Store&) -> Result<void> {
    auto group = find_object(group_address, NameKind::group);
    if (!group) return group.error();
    bool inserted = false;
    auto text = insert_member(*group, member, &inserted);
    if (!text) return text.error();
    if (!inserted)
      return make_error(EEXIST,
                        fmt::format("{} is already a member of {}", *text, group->address()));
    if (auto r = refuse_group_cycles({GroupEdge{group->id, group->address()}}); !r) return r;
    return record(actor, "group.member.add", group->address(), "member " + *text);
  });
}

Result<void> Store::remove_group_member(const Actor& actor, std::string_view group_address,
                                        std::string_view member) {
  auto address = parse_address(member);
  if (!address) return address.error();
  return transaction([&](Store&) -> Result<void> {
    auto group = find_object(group_address, NameKind::group);
    if (!group) return group.error();
    if (auto r = db_->run(fmt::format("DELETE FROM group_members WHERE {}", kSameMember), group->id,
                          address->local, address->domain);
        !r)
      return r;
    if (db_->changes() == 0)
      return make_error(ENOENT,
                        fmt::format("{} is not a member of {}", address->text(), group->address()));
    return record(actor, "group.member.remove", group->address(), "member " + address->text());
  });
}

Result<directory::Group> Store::get_group(std::string_view address) {
  auto found = find_object(address, NameKind::group);
  if (!found) return found.error();
  return internal::only_row(read_groups({Scope::object, found->id}));
}

Result<std::vector<directory::Group>> Store::list_groups(std::string_view domain) {
  auto found = find_domain(domain);
  if (!found) return found.error();
  return read_groups({Scope::domain, found->id});
}

}  // namespace postcore::store
