// sim/simulator.h — deterministic simulation of a Raft group built on the
// pure core: 3-5 peers (plus joiners, observers, a witness), a simulated
// network with loss, duplication, reordering and partitions, crash-restart
// that keeps only what was persisted, random proposals, reads, leader
// transfers, membership changes and snapshot/compaction. Safety invariants
// are checked after every step; liveness once the faults heal.
//
// Everything derives from the seed: the same seed replays the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dragonboat::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint64_t steps = 2000;  // chaos steps before the heal phase
  bool verbose = false;   // print every event (for replaying a seed)
};

struct SimStats {
  uint64_t steps = 0;
  uint64_t writes_acked = 0;
  uint64_t reads_confirmed = 0;
  uint64_t leader_elections = 0;
  uint64_t config_changes = 0;
  uint64_t snapshots = 0;
  uint64_t snapshots_installed = 0;
  uint64_t crashes = 0;
  uint64_t transfers = 0;
  uint64_t messages = 0;
  uint64_t dropped_messages = 0;
};

struct SimResult {
  SimStats stats;
  std::vector<std::string> violations;
  std::string settings;  // the per-seed configuration, for the report
};

SimResult run_simulation(const SimOptions& options);

// The command that replays one seed verbosely.
std::string replay_command(uint64_t seed, uint64_t steps);

}  // namespace dragonboat::sim
