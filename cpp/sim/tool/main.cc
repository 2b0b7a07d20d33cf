// dragonboat-sim: runs the deterministic Raft simulation over many seeds and
// prints one summary line; a failing seed is printed with its replay command.
//
//   dragonboat-sim [--seeds N] [--first S] [--steps K] [--seed S --verbose] [--progress]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/simulator.h"

using dragonboat::sim::replay_command;
using dragonboat::sim::run_simulation;
using dragonboat::sim::SimOptions;

int main(int argc, char** argv) {
  uint64_t seeds = 500, first = 1, steps = 2000;
  bool verbose = false, progress = false, single = false;
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return std::strcmp(argv[i], name) == 0 && i + 1 < argc; };
    if (arg("--seeds")) {
      seeds = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg("--first")) {
      first = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg("--steps")) {
      steps = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg("--seed")) {
      first = std::strtoull(argv[++i], nullptr, 10);
      seeds = 1;
      single = true;
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      verbose = true;
    } else if (std::strcmp(argv[i], "--progress") == 0) {
      progress = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seeds N] [--first S] [--steps K] [--seed S] [--verbose] [--progress]\n",
                   argv[0]);
      return 2;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t total_steps = 0, violations = 0, writes = 0, reads = 0, elections = 0, ccs = 0,
           snaps = 0, crashes = 0;
  for (uint64_t s = first; s < first + seeds; ++s) {
    SimOptions o;
    o.seed = s;
    o.steps = steps;
    o.verbose = verbose;
    auto r = run_simulation(o);
    total_steps += r.stats.steps;
    writes += r.stats.writes_acked;
    reads += r.stats.reads_confirmed;
    elections += r.stats.leader_elections;
    ccs += r.stats.config_changes;
    snaps += r.stats.snapshots_installed;
    crashes += r.stats.crashes;
    violations += r.violations.size();
    for (const auto& v : r.violations) std::printf("VIOLATION %s\n", v.c_str());
    if (!r.violations.empty()) {
      std::printf("  settings: %s\n  replay:   %s\n", r.settings.c_str(),
                  replay_command(s, steps).c_str());
    }
    if (single) {
      std::printf("seed %llu: %s\n  writes=%llu reads=%llu elections=%llu config_changes=%llu "
                  "snapshots_sent=%llu crashes=%llu messages=%llu dropped=%llu\n",
                  (unsigned long long)s, r.settings.c_str(), (unsigned long long)r.stats.writes_acked,
                  (unsigned long long)r.stats.reads_confirmed,
                  (unsigned long long)r.stats.leader_elections,
                  (unsigned long long)r.stats.config_changes,
                  (unsigned long long)r.stats.snapshots_installed, (unsigned long long)r.stats.crashes,
                  (unsigned long long)r.stats.messages, (unsigned long long)r.stats.dropped_messages);
    }
    uint64_t done = s - first + 1;
    if (progress && (done % 10 == 0 || done == seeds)) {
      int width = 40;
      int filled = static_cast<int>(width * done / seeds);
      std::printf("\r[%s%s] %llu/%llu seeds, %llu writes acked, %llu violations", std::string(filled, '#').c_str(),
                  std::string(width - filled, '.').c_str(), (unsigned long long)done,
                  (unsigned long long)seeds, (unsigned long long)writes, (unsigned long long)violations);
      std::fflush(stdout);
      if (done == seeds) std::printf("\n");
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("totals: %llu writes acknowledged, %llu linearizable reads, %llu elections, "
              "%llu config changes, %llu snapshots installed, %llu crashes, %.1f s\n",
              (unsigned long long)writes, (unsigned long long)reads, (unsigned long long)elections,
              (unsigned long long)ccs, (unsigned long long)snaps, (unsigned long long)crashes, secs);
  std::printf("simulation: %llu seeds, %llu steps, %llu violations\n", (unsigned long long)seeds,
              (unsigned long long)total_steps, (unsigned long long)violations);
  return violations == 0 ? 0 : 1;
}
