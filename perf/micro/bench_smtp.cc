// SMTP session parser throughput: a pipelined session carrying 10 KB messages, fed in 64 KiB
// pieces as a socket read would deliver them. Reported as input bytes per second.
//   BM_PipelinedData/async   DATA, commits answered after each feed (a spool group commit)
//   BM_PipelinedData/inline  DATA, commits answered from inside message_end
//   BM_PipelinedBdat/async   BDAT LAST with the same messages
#include <benchmark/benchmark.h>

#include <string>

#include "dataplane/smtp/session.h"

namespace postcore::smtp {
namespace {

constexpr int kMessages = 100;
constexpr size_t kMessageSize = 10 * 1024;
constexpr size_t kReadSize = 64 * 1024;

class NullHost : public SessionHost {
 public:
  RcptVerdict check_recipient(std::string_view, std::vector<DeliveryTarget>&) override {
    return RcptVerdict::accept;
  }
  std::string message_begin(const Envelope&) override { return "4Xyz7Qm2Lc"; }
  void message_data(std::string_view chunk) override { bytes += chunk.size(); }
  void message_end() override {
    if (commit_inline != nullptr) commit_inline->commit_succeeded("4Xyz7Qm2Lc");
  }
  void message_abort() override {}
  // Never called: the benchmark's configuration does not offer AUTH.
  void authenticate(std::string_view, std::string_view, std::string_view) override {}
  Session* commit_inline = nullptr;
  size_t bytes = 0;
};

// Header lines, then body lines of 76 octets; every 20th line starts with a dot (stuffed).
std::string message_text() {
  std::string text =
      "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
      "Subject: quarterly figures\r\nMessage-ID: <1234.5678@example.org>\r\n"
      "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  for (int line = 0; text.size() < kMessageSize; ++line) {
    std::string body = line % 20 == 0 ? ".." : "";
    while (body.size() < 76) body += "lorem ipsum dolor sit amet ";
    body.resize(76);
    text += body + "\r\n";
  }
  return text;
}

std::string pipelined_session(bool bdat) {
  const std::string text = message_text();
  std::string input = "EHLO client.example.org\r\n";
  for (int i = 0; i < kMessages; ++i) {
    input += "MAIL FROM:<alice@example.org> BODY=8BITMIME SIZE=10240\r\n";
    input += "RCPT TO:<bob@example.net>\r\n";
    if (bdat) {
      // The same octets as DATA would store: no dot-stuffing in BDAT.
      std::string octets;
      for (size_t at = 0; at < text.size();) {
        size_t end = text.find("\r\n", at) + 2;
        std::string line = text.substr(at, end - at);
        if (line.rfind("..", 0) == 0) line.erase(0, 1);
        octets += line;
        at = end;
      }
      input += "BDAT " + std::to_string(octets.size()) + " LAST\r\n" + octets;
    } else {
      input += "DATA\r\n" + text + ".\r\n";
    }
  }
  return input + "QUIT\r\n";
}

void run_session(benchmark::State& state, const std::string& input, bool inline_commit) {
  Config config;
  config.hostname = "mx.example.net";
  NullHost host;
  for (auto _ : state) {
    Session session(config, host, "192.0.2.1");
    host.commit_inline = inline_commit ? &session : nullptr;
    session.start(1700000000);
    for (size_t at = 0; at < input.size(); at += kReadSize) {
      session.feed(std::string_view(input).substr(at, kReadSize), 1700000000);
      while (session.awaiting_commit()) session.commit_succeeded("4Xyz7Qm2Lc");
      session.output().clear();
    }
    if (!session.closing()) state.SkipWithError("session did not reach QUIT");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  benchmark::DoNotOptimize(host.bytes);
}

void BM_PipelinedData(benchmark::State& state) {
  static const std::string input = pipelined_session(false);
  run_session(state, input, state.range(0) != 0);
}
BENCHMARK(BM_PipelinedData)->ArgName("inline")->Arg(0)->Arg(1);

void BM_PipelinedBdat(benchmark::State& state) {
  static const std::string input = pipelined_session(true);
  run_session(state, input, false);
}
BENCHMARK(BM_PipelinedBdat);

}  // namespace
}  // namespace postcore::smtp

BENCHMARK_MAIN();
