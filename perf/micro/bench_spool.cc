// Spool micro-benchmarks: CRC-32C throughput, record encoding and decoding, the CPU cost
// of the commit path, and start-up recovery of a large spool on a real disk.
//
//   bench_spool --benchmark_filter=Recovery   (builds 100k and 1M message spools in
//                                               $TMPDIR first; needs ~1.5 GB free)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "common/crc32c.h"
#include "common/log.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/record.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::spool {
namespace {

std::string make_bytes(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

Envelope make_envelope(int recipients) {
  Envelope e;
  e.client_address = "198.51.100.23";
  e.helo = "mail.example.org";
  e.esmtp = true;
  e.mail_from = "newsletter-bounces+subscriber=example.net@lists.example.org";
  e.body = BodyType::eight_bit_mime;
  e.received_at = 1700000000;
  for (int i = 0; i < recipients; i++) {
    e.recipients.push_back(Recipient{"user" + std::to_string(i) + "@example.net", 0, ""});
  }
  return e;
}

void BM_Crc32cHardware(benchmark::State& state) {
  const std::string data = make_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c_impl::extend_hardware(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cHardware)->Arg(64)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = make_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c_impl::extend_portable(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(64)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_RecordEncode(benchmark::State& state) {
  const std::string payload = make_bytes(static_cast<size_t>(state.range(0)));
  const uint32_t seed = header_seed(42);
  std::string out;
  out.reserve(payload.size() + 64);
  for (auto _ : state) {
    out.clear();
    append_record(out, seed, RecordType::chunk, message_key(1, 1), payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordEncode)->Arg(1024)->Arg(64 << 10)->Arg(256 << 10);

void BM_RecordDecode(benchmark::State& state) {
  const std::string payload = make_bytes(static_cast<size_t>(state.range(0)));
  const uint32_t seed = header_seed(42);
  std::string bytes;
  append_record(bytes, seed, RecordType::chunk, message_key(1, 1), payload);
  for (auto _ : state) {
    auto record = decode_record(bytes, seed);
    benchmark::DoNotOptimize(record.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordDecode)->Arg(1024)->Arg(64 << 10)->Arg(256 << 10);

void BM_EnvelopeEncodeDecode(benchmark::State& state) {
  const Envelope envelope = make_envelope(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto decoded = decode_envelope(*encode_envelope(envelope));
    benchmark::DoNotOptimize(decoded.ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EnvelopeEncodeDecode)->Arg(1)->Arg(20);

// A FileIo that completes every operation at once and keeps nothing: what remains is
// the spool's own CPU cost.
class DiscardingFileIo final : public volume::FileIo {
 public:
  Result<int> open(const std::string&, int, mode_t) override { return next_fd_++; }
  Result<void> close(int) override { return {}; }
  Result<uint64_t> size(int) override { return uint64_t{0}; }
  Result<size_t> read(int, uint64_t, void*, size_t) override { return size_t{0}; }
  Result<void> truncate(int, uint64_t) override { return {}; }
  Result<void> sync(int) override { return {}; }
  Result<void> mkdir(const std::string&) override { return {}; }
  Result<void> sync_dir(const std::string&) override { return {}; }
  Result<void> rename(const std::string&, const std::string&) override { return {}; }
  Result<void> unlink(const std::string&) override { return {}; }
  Result<std::vector<std::string>> list_dir(const std::string&) override {
    return std::vector<std::string>{};
  }
  Result<void> write_at(int, uint64_t, const void*, size_t) override { return {}; }
  void write(int, uint64_t, const void*, size_t len, volume::IoCallback done) override {
    pending_.emplace_back(std::move(done), static_cast<int>(len));
  }
  void datasync(int, volume::IoCallback done) override {
    pending_.emplace_back(std::move(done), 0);
  }
  void run_pending() {
    while (!pending_.empty()) {
      auto batch = std::move(pending_);
      pending_.clear();
      for (auto& [done, result] : batch) done(result);
    }
  }

 private:
  int next_fd_ = 3;
  std::vector<std::pair<volume::IoCallback, int>> pending_;
};

// begin/append/commit and group commit of 100 messages per flush.
void BM_CommitPath(benchmark::State& state) {
  log::set_level(log::Level::warning);
  const size_t body_size = static_cast<size_t>(state.range(0));
  const std::string body = make_bytes(body_size);
  const Envelope envelope = make_envelope(2);
  DiscardingFileIo io;
  ShardOptions options;
  options.dir = "/spool";
  SpoolShard shard(io, options);
  if (!shard.open()) state.SkipWithError("open failed");
  constexpr int kPerGroup = 100;
  int64_t messages = 0;
  for (auto _ : state) {
    for (int i = 0; i < kPerGroup; i++) {
      auto h = shard.begin(envelope);
      shard.append(*h, body);
      shard.commit(*h, [](Result<void>) {});
    }
    shard.flush();
    io.run_pending();
    messages += kPerGroup;
  }
  state.SetItemsProcessed(messages);
  state.SetBytesProcessed(messages * static_cast<int64_t>(body_size));
}
BENCHMARK(BM_CommitPath)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

// A spool of N messages of 1 KB each on a real file system, built once per N.
class RecoveryFixture {
 public:
  static const std::string& dir_for(int64_t messages) {
    static RecoveryFixture fixture;
    auto it = fixture.dirs_.find(messages);
    if (it == fixture.dirs_.end())
      it = fixture.dirs_.emplace(messages, fixture.build(messages)).first;
    return it->second;
  }
  ~RecoveryFixture() {
    for (const auto& [n, dir] : dirs_)
      std::filesystem::remove_all(std::filesystem::path(dir).parent_path().parent_path());
  }

 private:
  std::string build(int64_t messages) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp ? tmp : "/tmp") + "/bench-spool-XXXXXX";
    if (!mkdtemp(pattern.data())) std::abort();
    const std::string dir = shard_dir(pattern, 0);
    volume::PosixFileIo io;
    ShardOptions options;
    options.dir = dir;
    SpoolShard shard(io, options);
    if (!shard.open()) std::abort();
    const std::string body = make_bytes(1024);
    const Envelope envelope = make_envelope(1);
    for (int64_t i = 0; i < messages; i++) {
      auto h = shard.begin(envelope);
      shard.append(*h, body);
      shard.commit(*h, [](Result<void> r) {
        if (!r) std::abort();
      });
      if (i % 2000 == 1999) {
        shard.flush();
        io.run_pending();
      }
    }
    while (!shard.idle() || io.has_pending()) {
      shard.flush();
      io.run_pending();
    }
    return dir;
  }

  std::map<int64_t, std::string> dirs_;
};

void evict_from_page_cache(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    int fd = ::open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Start-up time with N queued messages: the page cache warm (arg 1 = 0) or with the
// spool's files evicted from it first (arg 1 = 1).
void BM_Recovery(benchmark::State& state) {
  log::set_level(log::Level::warning);
  const std::string& dir = RecoveryFixture::dir_for(state.range(0));
  const bool cold = state.range(1) != 0;
  uint64_t found = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      evict_from_page_cache(dir);
      state.ResumeTiming();
    }
    volume::PosixFileIo io;
    ShardOptions options;
    options.dir = dir;
    SpoolShard shard(io, options);
    auto report = shard.open();
    if (!report) state.SkipWithError(report.error().message.c_str());
    found = report ? report->messages : 0;
  }
  state.counters["messages"] = static_cast<double>(found);
}
BENCHMARK(BM_Recovery)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace postcore::spool

BENCHMARK_MAIN();
