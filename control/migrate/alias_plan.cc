#include "control/migrate/alias_plan.h"

#include <utility>

namespace postcore::migrate {
namespace {

bool deliverable(const AliasTarget& target) {
  return target.kind == AliasTargetKind::local || target.kind == AliasTargetKind::remote;
}

std::string full_address(const AliasTarget& target, const std::string& domain) {
  return target.kind == AliasTargetKind::local ? target.value + "@" + domain : target.value;
}

}  // namespace

AliasPlan plan_aliases(const AliasesFile& aliases) {
  AliasPlan plan;
  plan.domain = aliases.domain;
  plan.not_imported = aliases.not_imported;
  for (const AliasEntry& entry : aliases.entries) {
    std::vector<const AliasTarget*> targets;
    bool names_itself = false;
    for (const AliasTarget& target : entry.targets) {
      if (!deliverable(target)) continue;
      if (target.kind == AliasTargetKind::local && target.value == entry.name) {
        names_itself = true;
        continue;
      }
      targets.push_back(&target);
    }
    if (targets.empty()) {
      std::string why = names_itself ? "it delivers only to the account of the same name, which "
                                       "the account import brings"
                                     : "none of its targets can be imported";
      plan.not_imported.push_back(ImportNote{
          aliases.file, entry.line, 1, "alias \"" + entry.name + "\" is not imported: " + why});
      continue;
    }
    if (names_itself) {
      KeepAndForward keep{entry.name, {}, entry.line};
      for (const AliasTarget* t : targets)
        keep.forward_to.push_back(full_address(*t, aliases.domain));
      plan.keep_and_forward.push_back(std::move(keep));
    } else if (targets.size() == 1 && targets[0]->kind == AliasTargetKind::local) {
      plan.account_aliases.push_back(AccountAlias{entry.name, targets[0]->value, entry.line});
    } else if (targets.size() == 1) {
      plan.forwarders.push_back(Forwarder{entry.name, targets[0]->value, entry.line});
    } else {
      Group group{entry.name, {}, entry.line};
      for (const AliasTarget* t : targets)
        group.members.push_back(full_address(*t, aliases.domain));
      plan.groups.push_back(std::move(group));
    }
  }
  return plan;
}

}  // namespace postcore::migrate
