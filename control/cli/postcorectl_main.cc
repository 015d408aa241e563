// postcorectl: the operator's command line to the control plane's admin API. Every
// command is one request; the reply is printed as text, or as JSON with --json.
// Exit status: 0 done, 1 the control plane refused (no such object, already exists,
// conflict, permission), 2 bad usage or invalid input, 3 the control plane is not running.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <iostream>

#include "control/api/admin_client.h"
#include "control/cli/command_output.h"
#include "control/cli/import_request.h"
#include "control/cli/ssh_session.h"
#include "control/cli/volume_job.h"
#include "control/migrate/quota.h"

using namespace postcore;
using nlohmann::json;

namespace {

struct Request {
  std::string command;
  json args = json::object();
};

int fail(const std::string& message, int status) {
  std::cerr << "postcorectl: " << message << "\n";
  return status;
}

int exit_status_of(const Error& e) {
  switch (e.code) {
    case EINVAL:
      return 2;
    case ECONNREFUSED:
    case ENOENT:
      return 1;
    default:
      return 1;
  }
}

std::string data_dir_default() {
  const char* env = std::getenv("POSTCORE_DATA_DIR");
  return env && *env ? env : "./var";
}

Result<uint64_t> quota_kb(const std::string& text) {
  auto q = migrate::parse_quota(text);
  if (!q) return make_error(EINVAL, "--quota " + text + ": " + q.error().message);
  if (q->unlimited) return uint64_t{0};
  return (q->bytes + 1023) / 1024;
}

std::string read_password_stdin() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"postcorectl: manage the postcore appliance"};
  app.require_subcommand(1);
  std::string data_dir = data_dir_default();
  bool as_json = false;
  app.add_option("--data-dir", data_dir, "data directory (default $POSTCORE_DATA_DIR or ./var)");
  app.add_flag("--json", as_json, "print the reply as JSON");

  Request req;
  // Values the callbacks below fill in.
  std::string name, name2, password, quota, real_name;
  std::vector<std::string> list, services, copies;
  bool cascade = false, password_stdin = false, no_copies = false;
  auto set = [&](std::string command, std::function<void()> fill = nullptr) {
    return [&req, command, fill] {
      req.command = command;
      if (fill) fill();
    };
  };

  app.add_subcommand("status", "control plane and directory status")->callback(set("status"));
  auto* volume = app.add_subcommand("volume", "the mirrored volume set")->require_subcommand(1);
  volume->add_subcommand("status", "each member's state, generation, errors and repairs")
      ->callback(set("volume.status"));
  auto* v_replace = volume->add_subcommand(
      "replace", "rebuild a member that is not healthy (a new disk) from the healthy ones");
  v_replace->add_option("member", name, "the member directory (as the profile names it)")
      ->required();
  bool wait_job = false;
  const char* wait_help = "block until the job has ended, and say how";
  v_replace->add_flag("--wait", wait_job, wait_help);
  v_replace->callback(set("volume.replace", [&] { req.args = {{"member", name}}; }));
  auto* v_add = volume->add_subcommand("add", "add a member (a directory on another disk)");
  v_add->add_option("member", name, "the directory (relative ones are under the data directory)")
      ->required();
  v_add->add_flag("--wait", wait_job, wait_help);
  v_add->callback(set("volume.add", [&] { req.args = {{"member", name}}; }));
  auto* v_rm = volume->add_subcommand("remove", "take a member out of the set for good");
  v_rm->add_option("member", name, "the member directory")->required();
  v_rm->add_flag("--wait", wait_job, wait_help);
  v_rm->callback(set("volume.remove", [&] { req.args = {{"member", name}}; }));
  uint64_t job_id = 0;
  auto* v_job = volume->add_subcommand("job", "what became of a replace, add, remove or scrub");
  v_job->add_option("id", job_id, "the job's number, as the request printed it")->required();
  v_job->callback(set("volume.job", [&] { req.args = {{"id", job_id}}; }));
  auto* v_scrub = volume->add_subcommand(
      "scrub", "check every copy of every sealed spool file and mend bad ones");
  v_scrub->add_flag("--wait", wait_job, wait_help);
  v_scrub->callback(set("volume.scrub"));
  auto* ip = app.add_subcommand("ip", "IP aliases: service addresses on this machine's interfaces")
                 ->require_subcommand(1);
  std::vector<std::string> ip_words;
  std::string ip_dev, ip_label, ip_domain;
  bool ip_check = false, ip_force = false;
  auto* ip_add = ip->add_subcommand("add", "ADDRESS/PREFIX dev IFACE: add an alias and keep it");
  ip_add->add_option("words", ip_words, "ADDRESS/PREFIX dev IFACE")->required();
  ip_add->add_option("--dev", ip_dev, "the interface (or `dev IFACE` after the address)");
  ip_add->add_option("--label", ip_label, "IPv4 label (eth0:LABEL)");
  ip_add->add_option("--domain", ip_domain, "domain whose address this is");
  ip_add->add_option("--service", services, "services on it: smtp,submission,imap,… (all)")
      ->delimiter(',');
  ip_add->add_flag("--check", ip_check, "first ask (ARP/NDP) whether another host holds it");
  ip_add->add_flag("--force", ip_force, "add it even when another host answers for it");
  ip_add->callback(set("ip.add"));
  auto* ip_rm = ip->add_subcommand("remove", "remove an alias from the system and the store");
  ip_rm->add_option("address", name, "the address")->required();
  ip_rm->add_flag("--force", ip_force, "even when it may lock you out");
  ip_rm->callback(set("ip.remove", [&] {
    req.args = {{"address", name}, {"force", ip_force}};
    // The address this SSH session came in on, for the guard.
    if (auto ssh = cli::ssh_server_address()) req.args["ssh_address"] = *ssh;
  }));
  ip->add_subcommand("list", "aliases: configured against present, drift shown")
      ->callback(set("ip.list"));
  ip->add_subcommand("sync", "make the system's aliases match the configuration")
      ->callback(set("ip.sync"));

  app.add_subcommand("audit", "recent changes: who, what, when")->callback(set("audit", [&] {
    req.args["limit"] = 100;
  }));

  auto* domain = app.add_subcommand("domain", "domains")->require_subcommand(1);
  auto* d_add = domain->add_subcommand("add", "add a domain");
  d_add->add_option("name", name, "domain name")->required();
  d_add->add_option("--alias", list, "another name of the domain (repeatable)");
  d_add->callback(set("domain.add", [&] { req.args = {{"name", name}, {"aliases", list}}; }));
  auto* d_rm = domain->add_subcommand("remove", "remove a domain");
  d_rm->add_option("name", name, "domain name")->required();
  d_rm->add_flag("--cascade", cascade, "also remove everything in it");
  d_rm->callback(set("domain.remove", [&] { req.args = {{"name", name}, {"cascade", cascade}}; }));
  domain->add_subcommand("list", "list domains")->callback(set("domain.list"));
  auto* d_show = domain->add_subcommand("show", "show a domain");
  d_show->add_option("name", name, "domain name")->required();
  d_show->callback(set("domain.show", [&] { req.args = {{"name", name}}; }));
  auto* d_alias = domain->add_subcommand("alias", "domain aliases")->require_subcommand(1);
  auto* da_add = d_alias->add_subcommand("add", "add another name for a domain");
  da_add->add_option("domain", name, "domain")->required();
  da_add->add_option("alias", name2, "alias name")->required();
  da_add->callback(set("domain.alias.add", [&] {
    req.args = {{"domain", name}, {"alias", name2}};
  }));
  auto* da_rm = d_alias->add_subcommand("remove", "remove a domain alias");
  da_rm->add_option("alias", name, "alias name")->required();
  da_rm->callback(set("domain.alias.remove", [&] { req.args = {{"alias", name}}; }));
  auto* d_catch =
      domain->add_subcommand("catch-all", "set (or, with no address, clear) the catch-all");
  d_catch->add_option("domain", name, "domain")->required();
  d_catch->add_option("address", name2, "where unknown names go");
  d_catch->callback(set("domain.catch_all", [&] {
    req.args = {{"domain", name}, {"address", name2}};
  }));

  auto* account = app.add_subcommand("account", "accounts")->require_subcommand(1);
  auto* a_add = account->add_subcommand("add", "add an account");
  a_add->add_option("address", name, "name@domain")->required();
  a_add->add_option("--real-name", real_name, "the person's name");
  a_add->add_option("--password", password, "initial password (prefer --password-stdin)");
  a_add->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  a_add->add_option("--services", services, "enabled services: smtp,pop,imap or none")
      ->delimiter(',');
  a_add->add_option("--quota", quota, "quota: 10K, 120K, 1M, 2G, plain KB, or unlimited");
  a_add->add_option("--copy-to", copies,
                    "also send a copy of the account's mail here (repeatable); the account "
                    "keeps its own");
  a_add->callback(set("account.add", [&] { req.args = {{"address", name}}; }));
  auto* a_rm = account->add_subcommand("remove", "remove an account and its aliases");
  a_rm->add_option("address", name, "name@domain")->required();
  a_rm->callback(set("account.remove", [&] { req.args = {{"address", name}}; }));
  auto* a_mv = account->add_subcommand("rename", "rename an account (its aliases follow)");
  a_mv->add_option("address", name, "name@domain")->required();
  a_mv->add_option("new-name", name2, "new local name")->required();
  a_mv->callback(set("account.rename", [&] {
    req.args = {{"address", name}, {"new_name", name2}};
  }));
  auto* a_list = account->add_subcommand("list", "list the accounts of a domain");
  a_list->add_option("domain", name, "domain")->required();
  a_list->callback(set("account.list", [&] { req.args = {{"domain", name}}; }));
  auto* a_show = account->add_subcommand("show", "show an account");
  a_show->add_option("address", name, "name@domain")->required();
  a_show->callback(set("account.show", [&] { req.args = {{"address", name}}; }));
  auto* a_set = account->add_subcommand("set", "change an account's settings");
  a_set->add_option("address", name, "name@domain")->required();
  a_set->add_option("--real-name", real_name, "the person's name");
  a_set->add_option("--services", services, "enabled services: smtp,pop,imap or none")
      ->delimiter(',');
  a_set->add_option("--quota", quota, "quota: 10K, 120K, 1M, 2G, plain KB, or unlimited");
  auto* copy_to = a_set->add_option("--copy-to", copies,
                                    "send copies of the account's mail to these addresses "
                                    "instead (repeatable)");
  a_set->add_flag("--no-copies", no_copies, "send no more copies")->excludes(copy_to);
  a_set->callback(set("account.set", [&] { req.args = {{"address", name}}; }));
  auto* a_pw = account->add_subcommand("passwd", "set an account's password");
  a_pw->add_option("address", name, "name@domain")->required();
  a_pw->add_option("--password", password, "the new password (prefer --password-stdin)");
  a_pw->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  a_pw->callback(set("account.set", [&] { req.args = {{"address", name}}; }));

  auto* alias = app.add_subcommand("alias", "account aliases")->require_subcommand(1);
  auto* al_add = alias->add_subcommand("add", "another name for an account");
  al_add->add_option("address", name, "alias name@domain")->required();
  al_add->add_option("account", name2, "the account (name, or name@domain)")->required();
  al_add->callback(set("alias.add", [&] { req.args = {{"address", name}, {"account", name2}}; }));
  auto* al_rm = alias->add_subcommand("remove", "remove an alias");
  al_rm->add_option("address", name, "alias name@domain")->required();
  al_rm->callback(set("alias.remove", [&] { req.args = {{"address", name}}; }));
  auto* al_list = alias->add_subcommand("list", "list the aliases of a domain");
  al_list->add_option("domain", name, "domain")->required();
  al_list->callback(set("alias.list", [&] { req.args = {{"domain", name}}; }));

  auto* fw = app.add_subcommand("forwarder", "forwarders")->require_subcommand(1);
  auto* fw_add = fw->add_subcommand("add", "a local name whose mail goes elsewhere");
  fw_add->add_option("address", name, "name@domain")->required();
  fw_add->add_option("target", name2, "where its mail goes")->required();
  fw_add->callback(set("forwarder.add", [&] {
    req.args = {{"address", name}, {"target", name2}};
  }));
  auto* fw_rm = fw->add_subcommand("remove", "remove a forwarder");
  fw_rm->add_option("address", name, "name@domain")->required();
  fw_rm->callback(set("forwarder.remove", [&] { req.args = {{"address", name}}; }));
  auto* fw_list = fw->add_subcommand("list", "list the forwarders of a domain");
  fw_list->add_option("domain", name, "domain")->required();
  fw_list->callback(set("forwarder.list", [&] { req.args = {{"domain", name}}; }));

  auto* group = app.add_subcommand("group", "groups")->require_subcommand(1);
  auto* g_add = group->add_subcommand("add", "add a group");
  g_add->add_option("address", name, "name@domain")->required();
  g_add->add_option("--real-name", real_name, "display name");
  g_add->add_option("--member", list, "a member address (repeatable)");
  g_add->callback(set("group.add", [&] {
    req.args = {{"address", name}, {"real_name", real_name}, {"members", list}};
  }));
  auto* g_rm = group->add_subcommand("remove", "remove a group");
  g_rm->add_option("address", name, "name@domain")->required();
  g_rm->callback(set("group.remove", [&] { req.args = {{"address", name}}; }));
  auto* g_show = group->add_subcommand("show", "show a group and its members");
  g_show->add_option("address", name, "name@domain")->required();
  g_show->callback(set("group.show", [&] { req.args = {{"address", name}}; }));
  auto* g_list = group->add_subcommand("list", "list the groups of a domain");
  g_list->add_option("domain", name, "domain")->required();
  g_list->callback(set("group.list", [&] { req.args = {{"domain", name}}; }));
  auto* g_members = group->add_subcommand("members", "group members")->require_subcommand(1);
  auto* gm_add = g_members->add_subcommand("add", "add a member");
  gm_add->add_option("group", name, "group name@domain")->required();
  gm_add->add_option("member", name2, "member address")->required();
  gm_add->callback(set("group.members.add", [&] {
    req.args = {{"group", name}, {"member", name2}};
  }));
  auto* gm_rm = g_members->add_subcommand("remove", "remove a member");
  gm_rm->add_option("group", name, "group name@domain")->required();
  gm_rm->add_option("member", name2, "member address")->required();
  gm_rm->callback(set("group.members.remove", [&] {
    req.args = {{"group", name}, {"member", name2}};
  }));

  auto* relay =
      app.add_subcommand("relay", "client networks allowed to relay")->require_subcommand(1);
  auto* r_add = relay->add_subcommand("add", "allow a network (CIDR) to relay");
  r_add->add_option("network", name, "e.g. 192.0.2.0/24")->required();
  r_add->callback(set("relay.add", [&] { req.args = {{"network", name}}; }));
  auto* r_rm = relay->add_subcommand("remove", "stop a network relaying");
  r_rm->add_option("network", name, "as added")->required();
  r_rm->callback(set("relay.remove", [&] { req.args = {{"network", name}}; }));
  relay->add_subcommand("list", "list relay networks")->callback(set("relay.list"));

  auto* import =
      app.add_subcommand("import", "import from an old mail server")->require_subcommand(1);
  auto* i_acc =
      import->add_subcommand("accounts", "a CommuniGate-style tab-separated account list");
  std::string import_domain;
  bool dry_run = false, strong = false;
  i_acc->add_option("file", name, "the account list")->required();
  i_acc->add_option("--domain", import_domain, "domain for names without one");
  i_acc->add_flag("--dry-run", dry_run, "report what would change, change nothing");
  i_acc->add_flag("--strong-hashes", strong,
                  "hash clear-text passwords with yescrypt now (slow) instead of at first login");
  i_acc->callback(set("import.accounts"));
  auto* i_pw = import->add_subcommand("passwd", "the login users of a Unix mail server");
  std::string shadow;
  uint32_t min_uid = 1000;
  i_pw->add_option("passwd", name, "the passwd file")->required();
  i_pw->add_option("--shadow", shadow, "the shadow file with the password hashes");
  i_pw->add_option("--domain", import_domain, "domain of the accounts")->required();
  i_pw->add_option("--min-uid", min_uid, "lower UIDs are system users (default 1000)");
  i_pw->add_flag("--dry-run", dry_run, "report what would change, change nothing");
  i_pw->callback(set("import.passwd"));

  auto* i_al = import->add_subcommand("aliases", "a sendmail/Postfix aliases file");
  i_al->add_option("file", name, "the aliases file")->required();
  i_al->add_option("--domain", import_domain, "domain of the aliases")->required();
  i_al->add_flag("--dry-run", dry_run, "report what would change, change nothing");
  i_al->callback(set("import.aliases"));

  auto* exp = app.add_subcommand("export", "export in the import formats")->require_subcommand(1);
  auto* e_acc = exp->add_subcommand("accounts", "accounts as a tab-separated account list");
  e_acc->add_option("--domain", import_domain, "only this domain");
  e_acc->callback(set("export.accounts"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what(), 2);
  }

  if (req.command == "ip.add") {
    std::string address = ip_words[0];
    if (ip_words.size() == 3 && ip_words[1] == "dev" && ip_dev.empty())
      ip_dev = ip_words[2];
    else if (ip_words.size() != 1)
      return fail("ip add: expected ADDRESS/PREFIX dev IFACE", 2);
    if (ip_dev.empty()) return fail("ip add: which interface? (dev IFACE)", 2);
    req.args = {{"address", address},
                {"interface", ip_dev},
                {"services", services},
                {"check", ip_check},
                {"force", ip_force}};
    if (!ip_label.empty()) req.args["label"] = ip_label;
    if (!ip_domain.empty()) req.args["domain"] = ip_domain;
  }

  // Options shared by several account commands.
  if (req.command == "account.add" || req.command == "account.set") {
    if (password_stdin) password = read_password_stdin();
    if (!password.empty())
      req.args["password"] = password;
    else if (a_pw->parsed())
      return fail("account passwd needs --password or --password-stdin", 2);
    if (!real_name.empty()) req.args["real_name"] = real_name;
    if (!services.empty()) req.args["services"] = services;
    if (!copies.empty() || no_copies) req.args["copies_to"] = copies;
    if (!quota.empty()) {
      auto kb = quota_kb(quota);
      if (!kb) return fail(kb.error().message, 2);
      req.args["quota_kb"] = *kb;
    }
  }

  if (req.command == "import.accounts") {
    cli::AccountImportOptions o;
    if (!import_domain.empty()) o.domain = import_domain;
    o.dry_run = dry_run;
    o.strong_hashes = strong;
    auto built = cli::account_import_request(name, o, std::cerr);
    if (!built) return fail(built.error().message, 2);
    req.args = std::move(*built);
  }

  if (req.command == "import.passwd") {
    cli::PasswdImportOptions o;
    o.domain = import_domain;
    if (!shadow.empty()) o.shadow = shadow;
    o.min_uid = min_uid;
    o.dry_run = dry_run;
    auto built = cli::passwd_import_request(name, o, std::cerr);
    if (!built) return fail(built.error().message, 2);
    req.command = "import.accounts";
    req.args = std::move(*built);
  }
  if (req.command == "import.aliases") {
    auto built = cli::aliases_import_request(name, import_domain, dry_run, std::cerr);
    if (!built) return fail(built.error().message, 2);
    req.args = std::move(*built);
  }
  if (req.command == "export.accounts" && !import_domain.empty())
    req.args = {{"domain", import_domain}};

  auto client = api::AdminClient::connect(data_dir + "/control.sock");
  if (!client) {
    int err = client.error().code;
    if (err == EACCES || err == EPERM)
      return fail("permission denied on " + data_dir +
                      "/control.sock: run as root or as a member of the postcore group",
                  1);
    return fail(client.error().message + " (is `postcore up` running?)", 3);
  }
  auto reply = client->call(req.command, req.args);
  if (!reply) {
    if (reply.error().code == ECONNRESET || reply.error().code == ETIMEDOUT)
      return fail(reply.error().message, 3);
    return fail(reply.error().message, exit_status_of(reply.error()));
  }
  if (req.command == "volume.replace" || req.command == "volume.add" ||
      req.command == "volume.remove" || req.command == "volume.scrub") {
    // The dataplane runs it: say what happened, not that it was asked for. A removal is
    // over once the dataplane takes it; the others are followed until they start (or are
    // queued behind the job it runs), or with --wait to the end.
    cli::JobWait wait;
    wait.until_finished = wait_job;
    wait.ends_when_taken = req.command == "volume.remove";
    auto job = cli::follow_volume_job(*client, *reply, wait);
    if (!job) return fail(job.error().message, job.error().code == ETIMEDOUT ? 1 : 3);
    if (reply->contains("store")) (*job)["store"] = (*reply)["store"];
    *reply = std::move(*job);
    if ((*reply)["state"] == "failed") {
      if (as_json) std::cout << reply->dump(2) << "\n";
      return fail((*reply)["outcome"].get<std::string>(), 1);
    }
  }
  if (as_json)
    std::cout << reply->dump(2) << "\n";
  else if (req.command == "export.accounts")
    cli::write_account_list(std::cout, *reply);
  else
    cli::print_text(std::cout, req.command, *reply);
  return 0;
}
