// engine/config_resolve.cc — the NodeHostConfig settings that depend on the
// machine and the host directory (config.cc holds the pure rules).
#include <algorithm>
#include <thread>

#include "dragonboat/config.h"
#include "logdb/host_dir.h"

namespace dragonboat {

uint64_t NodeHostConfig::resolved_logdb_shards() const {
  if (logdb_shards != 0) return logdb_shards;
  // The count is fixed at the first start (a group's shard is cluster_id %
  // shards), so an existing directory keeps its own whatever the machine.
  logdb::HostDirInfo found;
  if (!node_host_dir.empty() && logdb::read_host_dir_info(node_host_dir, &found).ok() && found.logdb_shards != 0) {
    return found.logdb_shards;
  }
  uint64_t threads = std::thread::hardware_concurrency();
  return std::clamp<uint64_t>(threads / 4, 1, 16);
}

}  // namespace dragonboat
