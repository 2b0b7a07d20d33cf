// tests/cpp/checker_plugin.cc — the checker state machines (checker_sm.h) as
// a plugin, so the Python tests and the whole-system test run C++ state
// machines of every kind:
//   nh.start_cluster(members, False, None, config, plugin=".../libdragonboat_checker_plugin.so")
// The kind follows the cluster ID: cluster_id % 3 == 0 regular, 1
// concurrent, 2 on-disk. Environment: DRAGONBOAT_CHECKER_DIR (the on-disk
// kind's directory, default "."), DRAGONBOAT_CHECKER_SAVE_DELAY_MS (a slow
// snapshot save, default 0).
#include <cstdlib>

#include "checker_sm.h"
#include "dragonboat/plugin.h"

namespace {

std::chrono::milliseconds save_delay() {
  const char* v = std::getenv("DRAGONBOAT_CHECKER_SAVE_DELAY_MS");
  return std::chrono::milliseconds(v ? std::strtoull(v, nullptr, 10) : 0);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) uint32_t dragonboat_plugin_abi_version() {
  return dragonboat::kPluginABIVersion;
}

extern "C" __attribute__((visibility("default"))) void* dragonboat_create_state_machine(uint64_t cluster_id,
                                                                                        uint64_t node_id,
                                                                                        uint32_t* kind) {
  using namespace dragonboat::testing;
  switch (cluster_id % 3) {
    case 0:
      *kind = static_cast<uint32_t>(dragonboat::PluginKind::kRegular);
      return static_cast<dragonboat::IStateMachine*>(new CheckerSM(save_delay()));
    case 1:
      *kind = static_cast<uint32_t>(dragonboat::PluginKind::kConcurrent);
      return static_cast<dragonboat::IConcurrentStateMachine*>(new ConcurrentCheckerSM(save_delay()));
    default: {
      const char* dir = std::getenv("DRAGONBOAT_CHECKER_DIR");
      *kind = static_cast<uint32_t>(dragonboat::PluginKind::kOnDisk);
      return static_cast<dragonboat::IOnDiskStateMachine*>(
          new OnDiskCheckerSM(dir ? dir : ".", cluster_id, node_id, save_delay()));
    }
  }
}
