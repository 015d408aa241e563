// pop3_bench: a POP3 load generator for perf/load/pop3_load.py.
//
// One thread, one epoll set, N non-blocking connections to one server on loopback (or any
// address given). Each connection works on its own account (line i % lines of the accounts
// file), because a POP3 maildrop is normally locked by one session at a time.
//
//   retrieve: connect, USER/PASS (or AUTH PLAIN), STAT, LIST, then RETR 1..n (or the first
//             --count messages) --passes times over, each multi-line answer read up to its
//             terminating ".\r\n" with the dot-stuffing taken off and its octets counted
//             and checked against LIST, then QUIT. One login per connection.
//   logins:   connect, USER/PASS (or AUTH PLAIN), QUIT, again and again, until --logins
//             logins have succeeded (or failed) across all connections.
//
// Prints one JSON line: messages, bytes (message octets after un-stuffing), wire bytes,
// logins, seconds (first connect to last close), client CPU seconds (this process's user +
// system time over the same window), errors and the first error seen. Every run is bounded
// by --timeout seconds; exit status 0 only if nothing failed.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 110;
  std::string mode = "retrieve";
  int connections = 10;
  std::string accounts_file;
  int passes = 1;      // retrieve: times every message is fetched in one session
  long count = -1;     // retrieve: fetch only the first `count` messages (-1: all)
  int pipeline = 1;    // retrieve: RETR commands in flight per connection
  long logins = 1000;  // logins: total logins across all connections
  bool auth_plain = false;
  bool verify_sizes = true;  // retrieve: LIST first, compare every RETR's octets with it
  double timeout = 300;
};

struct Account {
  std::string user, password;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

enum class Step { greeting, user, pass, auth, stat, list, retr, quit };

struct Totals {
  uint64_t messages = 0, bytes = 0, wire_bytes = 0, logins = 0, errors = 0;
  uint64_t size_mismatches = 0, in_use = 0, connects = 0;
  long logins_started = 0;
  double first_stat = 0, last_retr = 0;  // the retrieving window (retrieve mode)
  std::string first_error;
};

class Bench;

struct Conn {
  int fd = -1;
  int index = 0;
  const Account* account = nullptr;
  Step step = Step::greeting;
  std::string line;      // a status line being read
  bool in_body = false;  // reading a multi-line answer's lines
  bool at_line_start = true;
  int dot_state = 0;  // 1: line began with '.', 2: ".\r" seen
  uint64_t body_octets = 0;
  std::vector<uint64_t> sizes;  // from LIST, 1-based message n at [n-1]
  std::string list_line;        // a LIST line being read
  long messages = 0;            // in the maildrop (STAT)
  long to_fetch = 0;            // per pass
  long sent = 0, done = 0;      // RETR commands sent and answered, over all passes
  std::string out;              // not yet written
  bool want_out = false;
  uint64_t generation = 0;  // counts sessions on this slot (logins mode reconnects)
};

const char* step_name(Step s) {
  switch (s) {
    case Step::greeting:
      return "greeting";
    case Step::user:
      return "USER";
    case Step::pass:
      return "PASS";
    case Step::auth:
      return "AUTH PLAIN";
    case Step::stat:
      return "STAT";
    case Step::list:
      return "LIST";
    case Step::retr:
      return "RETR";
    case Step::quit:
      return "QUIT";
  }
  return "?";
}

class Bench {
 public:
  explicit Bench(Options o, std::vector<Account> accounts)
      : o_(std::move(o)), accounts_(std::move(accounts)) {}

  int run();

 private:
  void fail(Conn& c, const std::string& why);
  bool open_conn(Conn& c);
  void close_conn(Conn& c);
  void finished(Conn& c);
  void send(Conn& c, std::string_view text);
  void flush(Conn& c);
  void on_readable(Conn& c);
  // Returns bytes of `data` consumed; stops early when the connection was closed.
  size_t consume(Conn& c, const char* data, size_t n);
  bool on_status(Conn& c, std::string_view line);
  // Multi-line body bytes; returns consumed count; sets c.in_body = false at the end.
  size_t body(Conn& c, const char* data, size_t n);
  void body_line_done(Conn& c, std::string_view list_line);
  void body_end(Conn& c);
  void next_retr(Conn& c);

  Options o_;
  std::vector<Account> accounts_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int epfd_ = -1;
  int active_ = 0;
  Totals t_;
  sockaddr_in addr_{};
};

void Bench::fail(Conn& c, const std::string& why) {
  ++t_.errors;
  if (t_.first_error.empty())
    t_.first_error = "connection " + std::to_string(c.index) + " (" +
                     (c.account ? c.account->user : "?") + "): " + why;
  close_conn(c);
  finished(c);
}

bool Bench::open_conn(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    fail(c, std::string("socket: ") + std::strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++t_.connects;
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) < 0 &&
      errno != EINPROGRESS) {
    fail(c, std::string("connect: ") + std::strerror(errno));
    return false;
  }
  ++c.generation;
  c.step = Step::greeting;
  c.line.clear();
  c.in_body = false;
  c.out.clear();
  c.want_out = false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = &c;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
  return true;
}

void Bench::close_conn(Conn& c) {
  if (c.fd >= 0) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }
}

// The connection is done with its current session: start another (logins mode) or stop.
void Bench::finished(Conn& c) {
  if (o_.mode == "logins" && t_.logins_started < o_.logins) {
    ++t_.logins_started;
    if (open_conn(c)) return;
    return;  // open_conn failed and called finished() again
  }
  --active_;
}

void Bench::send(Conn& c, std::string_view text) {
  c.out.append(text);
  flush(c);
}

void Bench::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      fail(c, std::string("send: ") + std::strerror(errno));
      return;
    }
    c.out.erase(0, size_t(w));
  }
  bool want = !c.out.empty();
  if (want != c.want_out) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t(EPOLLOUT) : 0u);
    ev.data.ptr = &c;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

void Bench::on_readable(Conn& c) {
  static char buf[256 * 1024];
  for (int round = 0; round < 64 && c.fd >= 0; ++round) {
    ssize_t r = recv(c.fd, buf, sizeof buf, 0);
    if (r < 0) {
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
      return fail(c, std::string("recv: ") + std::strerror(errno));
    }
    if (r == 0) {
      if (c.step == Step::quit) {
        // Closed right after the QUIT answer's bytes were all read.
        return fail(c, "connection closed before the QUIT answer");
      }
      return fail(c, "connection closed by the server");
    }
    t_.wire_bytes += size_t(r);
    // A failed or finished session may start the next one on this slot (logins mode):
    // what is left of the buffer belonged to the old one.
    const uint64_t gen = c.generation;
    size_t off = 0;
    while (off < size_t(r) && c.fd >= 0 && c.generation == gen)
      off += consume(c, buf + off, size_t(r) - off);
    if (c.generation != gen || size_t(r) < sizeof buf) return;
  }
}

size_t Bench::consume(Conn& c, const char* data, size_t n) {
  if (c.in_body) return body(c, data, n);
  const char* nl = static_cast<const char*>(std::memchr(data, '\n', n));
  if (!nl) {
    c.line.append(data, n);
    if (c.line.size() > 4096) fail(c, "status line too long");
    return n;
  }
  size_t used = size_t(nl - data) + 1;
  c.line.append(data, used);
  std::string line;
  line.swap(c.line);
  on_status(c, line);
  return used;
}

size_t Bench::body(Conn& c, const char* data, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (c.at_line_start) {
      c.at_line_start = false;
      c.dot_state = 0;
      if (data[i] == '.') {
        c.dot_state = 1;
        ++i;
        continue;
      }
    }
    if (c.dot_state == 1) {
      // After a leading dot: "\r\n" ends the answer; anything else is a stuffed line.
      if (data[i] == '\r') {
        c.dot_state = 2;
        ++i;
        continue;
      }
      c.dot_state = 0;  // the stuffing dot is not counted
    } else if (c.dot_state == 2) {
      if (data[i] == '\n') {
        ++i;
        c.in_body = false;
        body_end(c);
        return i;
      }
      c.body_octets += 1;  // a line ".\r<x>": the '\r' was data
      c.dot_state = 0;
    }
    const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
    size_t end = nl ? size_t(nl - data) + 1 : n;
    if (c.step == Step::list) c.list_line.append(data + i, end - i);
    c.body_octets += end - i;
    i = end;
    if (nl) {
      c.at_line_start = true;
      if (c.step == Step::list) {
        body_line_done(c, c.list_line);
        c.list_line.clear();
      }
    }
  }
  return n;
}

void Bench::body_line_done(Conn& c, std::string_view l) {
  // "n size\r\n"
  long num = std::strtol(std::string(l).c_str(), nullptr, 10);
  size_t sp = l.find(' ');
  if (num < 1 || sp == std::string_view::npos) return;
  uint64_t size = std::strtoull(std::string(l.substr(sp + 1)).c_str(), nullptr, 10);
  if (c.sizes.size() < size_t(num)) c.sizes.resize(size_t(num), 0);
  c.sizes[size_t(num - 1)] = size;
}

void Bench::body_end(Conn& c) {
  if (c.step == Step::list) {
    c.step = Step::retr;
    c.sent = c.done = 0;
    return next_retr(c);
  }
  // A RETR answer.
  long n = (c.done % c.to_fetch) + 1;
  ++c.done;
  ++t_.messages;
  t_.last_retr = now_seconds();
  t_.bytes += c.body_octets;
  if (o_.verify_sizes && size_t(n) <= c.sizes.size() && c.sizes[size_t(n - 1)] != c.body_octets) {
    if (t_.size_mismatches++ == 0 && t_.first_error.empty())
      t_.first_error = "message " + std::to_string(n) + " of " + c.account->user + ": LIST said " +
                       std::to_string(c.sizes[size_t(n - 1)]) + " octets, RETR gave " +
                       std::to_string(c.body_octets);
  }
  next_retr(c);
}

void Bench::next_retr(Conn& c) {
  const long total = c.to_fetch * o_.passes;
  if (c.done == total) {
    c.step = Step::quit;
    return send(c, "QUIT\r\n");
  }
  std::string cmds;
  while (c.sent < total && c.sent - c.done < o_.pipeline) {
    cmds += "RETR " + std::to_string((c.sent % c.to_fetch) + 1) + "\r\n";
    ++c.sent;
  }
  if (!cmds.empty()) send(c, cmds);
}

bool Bench::on_status(Conn& c, std::string_view line) {
  const bool ok = line.starts_with("+OK");
  std::string shown(line.substr(0, line.find_first_of("\r\n")));
  if (!ok && !(c.step == Step::auth && line.starts_with("+ "))) {
    if (shown.find("[IN-USE]") != std::string::npos) ++t_.in_use;
    fail(c, std::string("answer to ") + step_name(c.step) + ": " + shown);
    return false;
  }
  switch (c.step) {
    case Step::greeting:
      if (o_.auth_plain) {
        std::string sasl = std::string(1, '\0') + c.account->user + '\0' + c.account->password;
        c.step = Step::auth;
        send(c, "AUTH PLAIN " + base64(sasl) + "\r\n");
      } else {
        c.step = Step::user;
        send(c, "USER " + c.account->user + "\r\n");
      }
      break;
    case Step::user:
      c.step = Step::pass;
      send(c, "PASS " + c.account->password + "\r\n");
      break;
    case Step::auth:
      if (!ok) return fail(c, "AUTH PLAIN got a continuation"), false;
      [[fallthrough]];
    case Step::pass:
      ++t_.logins;
      if (o_.mode == "logins") {
        c.step = Step::quit;
        send(c, "QUIT\r\n");
      } else {
        c.step = Step::stat;
        if (t_.first_stat == 0) t_.first_stat = now_seconds();
        send(c, "STAT\r\n");
      }
      break;
    case Step::stat: {
      c.messages = std::strtol(shown.c_str() + 3, nullptr, 10);
      c.to_fetch = o_.count >= 0 && o_.count < c.messages ? o_.count : c.messages;
      c.sizes.clear();
      if (c.to_fetch == 0) {
        c.step = Step::quit;
        send(c, "QUIT\r\n");
      } else if (o_.verify_sizes) {
        c.step = Step::list;
        send(c, "LIST\r\n");
      } else {
        c.step = Step::retr;
        c.sent = c.done = 0;
        next_retr(c);
      }
      break;
    }
    case Step::retr:
    case Step::list:
      c.in_body = true;
      c.at_line_start = true;
      c.body_octets = 0;
      c.list_line.clear();
      break;
    case Step::quit:
      close_conn(c);
      finished(c);
      return false;
  }
  return true;
}

int Bench::run() {
  addr_.sin_family = AF_INET;
  addr_.sin_port = htons(uint16_t(o_.port));
  if (inet_pton(AF_INET, o_.host.c_str(), &addr_.sin_addr) != 1) {
    std::fprintf(stderr, "pop3_bench: bad address %s\n", o_.host.c_str());
    return 2;
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  const double cpu0 = cpu_seconds();
  const double t0 = now_seconds();
  for (int i = 0; i < o_.connections; ++i) {
    auto c = std::make_unique<Conn>();
    c->index = i;
    c->account = &accounts_[size_t(i) % accounts_.size()];
    conns_.push_back(std::move(c));
  }
  bool timed_out = false;
  for (auto& c : conns_) {
    if (o_.mode == "logins") {
      if (t_.logins_started >= o_.logins) break;
      ++t_.logins_started;
    }
    ++active_;
    open_conn(*c);
  }
  std::vector<epoll_event> events(256);
  while (active_ > 0) {
    const double left = o_.timeout - (now_seconds() - t0);
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = epoll_wait(epfd_, events.data(), int(events.size()), int(left * 1000) + 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return 2;
    }
    for (int k = 0; k < n; ++k) {
      Conn& c = *static_cast<Conn*>(events[k].data.ptr);
      if (c.fd < 0) continue;
      if (events[k].events & EPOLLOUT) flush(c);
      if (c.fd >= 0 && (events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        on_readable(c);
    }
  }
  const double seconds = now_seconds() - t0;
  const double cpu = cpu_seconds() - cpu0;
  if (timed_out) {
    for (auto& c : conns_) {
      if (c->fd >= 0) {
        ++t_.errors;
        close_conn(*c);
      }
    }
    if (t_.first_error.empty())
      t_.first_error = "timed out after " + std::to_string(o_.timeout) + " s";
  }
  std::printf(
      "{\"mode\":\"%s\",\"connections\":%d,\"passes\":%d,\"pipeline\":%d,\"messages\":%llu,"
      "\"bytes\":%llu,\"wire_bytes\":%llu,\"logins\":%llu,\"connects\":%llu,"
      "\"seconds\":%.6f,\"retrieve_seconds\":%.6f,\"client_cpu_seconds\":%.6f,\"errors\":%llu,\"in_"
      "use\":%llu,"
      "\"size_mismatches\":%llu,\"timed_out\":%s,\"first_error\":\"%s\"}\n",
      o_.mode.c_str(), o_.connections, o_.passes, o_.pipeline, (unsigned long long)t_.messages,
      (unsigned long long)t_.bytes, (unsigned long long)t_.wire_bytes,
      (unsigned long long)t_.logins, (unsigned long long)t_.connects, seconds,
      t_.last_retr > t_.first_stat ? t_.last_retr - t_.first_stat : 0.0, cpu,
      (unsigned long long)t_.errors, (unsigned long long)t_.in_use,
      (unsigned long long)t_.size_mismatches, timed_out ? "true" : "false",
      json_escape(t_.first_error).c_str());
  std::fflush(stdout);
  return t_.errors == 0 && t_.size_mismatches == 0 ? 0 : 1;
}

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "pop3_bench: %s\n", why);
  std::fprintf(stderr,
               "usage: pop3_bench --port N --accounts FILE [--host A] [--mode retrieve|logins]\n"
               "  [--connections N] [--passes N] [--count N] [--pipeline N] [--logins N]\n"
               "  [--auth-plain] [--no-verify] [--timeout S]\n"
               "FILE: one account a line, \"user password\" (separated by a tab or space).\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--host")
      o.host = value();
    else if (a == "--port")
      o.port = std::atoi(value().c_str());
    else if (a == "--mode")
      o.mode = value();
    else if (a == "--connections")
      o.connections = std::atoi(value().c_str());
    else if (a == "--accounts")
      o.accounts_file = value();
    else if (a == "--passes")
      o.passes = std::atoi(value().c_str());
    else if (a == "--count")
      o.count = std::atol(value().c_str());
    else if (a == "--pipeline")
      o.pipeline = std::atoi(value().c_str());
    else if (a == "--logins")
      o.logins = std::atol(value().c_str());
    else if (a == "--auth-plain")
      o.auth_plain = true;
    else if (a == "--no-verify")
      o.verify_sizes = false;
    else if (a == "--timeout")
      o.timeout = std::atof(value().c_str());
    else if (a == "--help" || a == "-h")
      usage(nullptr);
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.mode != "retrieve" && o.mode != "logins") usage("--mode is retrieve or logins");
  if (o.port <= 0 || o.port > 65535) usage("--port is required");
  if (o.connections < 1 || o.connections > 10000) usage("--connections: 1 to 10000");
  if (o.passes < 1 || o.pipeline < 1 || o.logins < 0 || o.timeout <= 0)
    usage("bad --passes, --pipeline, --logins or --timeout");
  if (o.accounts_file.empty()) usage("--accounts is required");
  std::vector<Account> accounts;
  std::ifstream in(o.accounts_file);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    size_t sep = l.find_first_of("\t ");
    if (l.empty() || l[0] == '#' || sep == std::string::npos) continue;
    accounts.push_back({l.substr(0, sep), l.substr(sep + 1)});
  }
  if (accounts.empty()) usage("no accounts in the accounts file");
  Bench bench(o, std::move(accounts));
  return bench.run();
}
