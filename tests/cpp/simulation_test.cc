// Deterministic simulation of the Raft core under faults (see
// sim/simulator.h for the invariants). DRAGONBOAT_SIM_SEEDS sets the number
// of seeds (default 1000; the CI floor is 500).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "sim/simulator.h"

namespace dragonboat::sim {
namespace {

TEST(Simulation, ManySeedsNoViolations) {
  uint64_t seeds = 1000;
  if (const char* e = std::getenv("DRAGONBOAT_SIM_SEEDS")) seeds = std::strtoull(e, nullptr, 10);
  const uint64_t steps = 2000;
  uint64_t total_steps = 0, violations = 0, writes = 0, reads = 0;
  for (uint64_t s = 1; s <= seeds; ++s) {
    SimOptions o;
    o.seed = s;
    o.steps = steps;
    SimResult r = run_simulation(o);
    total_steps += r.stats.steps;
    writes += r.stats.writes_acked;
    reads += r.stats.reads_confirmed;
    violations += r.violations.size();
    for (const auto& v : r.violations) {
      ADD_FAILURE() << v << "\n  settings: " << r.settings
                    << "\n  replay: " << replay_command(s, steps);
    }
  }
  // The simulation must actually exercise the protocol, not idle.
  EXPECT_GT(writes, seeds * 20);
  EXPECT_GT(reads, seeds * 5);
  std::printf("simulation: %llu seeds, %llu steps, %llu violations\n", (unsigned long long)seeds,
              (unsigned long long)total_steps, (unsigned long long)violations);
}

TEST(Simulation, SameSeedReplaysIdentically) {
  SimOptions o;
  o.seed = 42;
  o.steps = 800;
  SimResult a = run_simulation(o), b = run_simulation(o);
  EXPECT_EQ(a.stats.messages, b.stats.messages);
  EXPECT_EQ(a.stats.writes_acked, b.stats.writes_acked);
  EXPECT_EQ(a.stats.leader_elections, b.stats.leader_elections);
  EXPECT_EQ(a.settings, b.settings);
}

}  // namespace
}  // namespace dragonboat::sim
