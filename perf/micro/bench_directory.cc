// Directory micro-benchmarks: RCPT resolutions per second against a large directory
// (100,000 accounts, 10,000 aliases, 1,000 groups of 10 across 10 domains), the time to
// build that directory from its data, and the time to encode and decode its snapshot.
//
// Each resolution benchmark cycles through 4,096 different addresses so that the hash
// tables are exercised beyond one hot cache line.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "control/directory/directory.h"
#include "control/directory/snapshot_codec.h"

namespace postcore::directory {
namespace {

constexpr int kAccounts = 100'000;
constexpr int kAliases = 10'000;
constexpr int kGroups = 1'000;
constexpr int kGroupSize = 10;
constexpr int kDomains = 10;
constexpr size_t kAddressCycle = 4096;

std::string domain_name(int i) {
  return "dom" + std::to_string(i % kDomains) + ".example";
}

// A deterministic spread over [0, n), so that consecutive lookups land far apart.
int spread(size_t i, int n) {
  return static_cast<int>((i * 2654435761u) % static_cast<size_t>(n));
}

DirectoryData large_directory() {
  DirectoryData d;
  d.version = 1;
  for (int i = 0; i < kDomains; i++) {
    d.domains.push_back({domain_name(i), {"alias-" + domain_name(i)}, ""});
  }
  d.accounts.reserve(kAccounts);
  for (int i = 0; i < kAccounts; i++) {
    d.accounts.push_back({"user" + std::to_string(i), domain_name(i), "User " + std::to_string(i),
                          "$6$rounds=5000$saltsalt$" + std::string(86, 'h'), kAllServices,
                          1'048'576});
  }
  for (int i = 0; i < kAliases; i++) {
    int account = spread(i, kAccounts / kDomains) * kDomains + i % kDomains;
    d.account_aliases.push_back(
        {"alias" + std::to_string(i), domain_name(account), "user" + std::to_string(account)});
  }
  for (int i = 0; i < kGroups; i++) {
    Group g{"group" + std::to_string(i), domain_name(i), "Group " + std::to_string(i), {}};
    for (int m = 0; m < kGroupSize; m++) {
      int account = spread(i * kGroupSize + m, kAccounts);
      g.members.push_back("user" + std::to_string(account) + "@" + domain_name(account));
    }
    d.groups.push_back(std::move(g));
  }
  d.relay_networks = {"127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "::1", "fd00::/8"};
  return d;
}

const DirectoryData& data() {
  static const DirectoryData d = large_directory();
  return d;
}

const Directory& directory() {
  static const std::shared_ptr<const Directory> built = [] {
    auto result = Directory::build(data());
    if (!result.ok()) std::abort();
    return *result;
  }();
  return *built;
}

template <typename MakeAddress>
std::vector<std::string> addresses(MakeAddress make) {
  std::vector<std::string> out;
  for (size_t i = 0; i < kAddressCycle; i++) out.push_back(make(i));
  return out;
}

void run_resolutions(benchmark::State& state, const std::vector<std::string>& rcpts,
                     Verdict expected) {
  const Directory& dir = directory();
  size_t i = 0;
  for (auto _ : state) {
    Resolution r = dir.resolve(rcpts[i++ % rcpts.size()], "203.0.113.9");
    if (r.verdict != expected) state.SkipWithError("unexpected verdict");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ResolveKnownAccount(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    int a = spread(i, kAccounts);
    return "user" + std::to_string(a) + "@" + domain_name(a);
  });
  run_resolutions(state, rcpts, Verdict::accept);
}
BENCHMARK(BM_ResolveKnownAccount);

void BM_ResolveKnownAccountMixedCase(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    int a = spread(i, kAccounts);
    return "User" + std::to_string(a) + "@ALIAS-" + domain_name(a);
  });
  run_resolutions(state, rcpts, Verdict::accept);
}
BENCHMARK(BM_ResolveKnownAccountMixedCase);

void BM_ResolveAlias(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    int a = spread(i, kAliases);
    const AccountAlias& alias = data().account_aliases[a];
    return alias.name + "@" + alias.domain;
  });
  run_resolutions(state, rcpts, Verdict::accept);
}
BENCHMARK(BM_ResolveAlias);

void BM_ResolveUnknown(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    return "nobody" + std::to_string(i) + "@" + domain_name(static_cast<int>(i));
  });
  run_resolutions(state, rcpts, Verdict::unknown_user);
}
BENCHMARK(BM_ResolveUnknown);

void BM_ResolveGroupOf10(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    int g = spread(i, kGroups);
    return "group" + std::to_string(g) + "@" + domain_name(g);
  });
  run_resolutions(state, rcpts, Verdict::accept);
}
BENCHMARK(BM_ResolveGroupOf10);

void BM_ResolveRemoteRelayDenied(benchmark::State& state) {
  auto rcpts = addresses([](size_t i) {
    return "someone" + std::to_string(i) + "@outside" + std::to_string(i % 7) + ".example";
  });
  run_resolutions(state, rcpts, Verdict::relay_denied);
}
BENCHMARK(BM_ResolveRemoteRelayDenied);

void BM_BuildDirectory(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    DirectoryData copy = data();
    state.ResumeTiming();
    auto built = Directory::build(std::move(copy));
    benchmark::DoNotOptimize(built);
    state.PauseTiming();
    built = Directory::build(DirectoryData{});  // the large one's teardown is not measured
    state.ResumeTiming();
  }
}
BENCHMARK(BM_BuildDirectory)->Unit(benchmark::kMillisecond);

void BM_EncodeSnapshot(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string image = encode_snapshot(data());
    bytes = image.size();
    benchmark::DoNotOptimize(image);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["snapshot_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeSnapshot)->Unit(benchmark::kMillisecond);

void BM_DecodeSnapshot(benchmark::State& state) {
  const std::string image = encode_snapshot(data());
  for (auto _ : state) {
    Result<DirectoryData> decoded = decode_snapshot(image);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * image.size()));
}
BENCHMARK(BM_DecodeSnapshot)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace postcore::directory

BENCHMARK_MAIN();
