// logdb/logdb.h — durable Raft state of every group on a NodeHost: the
// ILogDB contract of dragonboat/raftio.h under the engine's names.
//
// Implementations: RocksLogDB (sharded RocksDB, the default) and MemLogDB
// (in-memory, for tests, simulation and dragonboat/plugins.h); both pass
// tests/cpp/logdb_test.cc, and so must an application's own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/raftio.h"
#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::logdb {

// The contract is public (dragonboat/raftio.h) so applications can plug in
// their own; the engine uses it under these names.
using LogDB = raftio::ILogDB;
using raftio::Bootstrap;
using raftio::NodeInfo;
using raftio::NodeUpdate;
using raftio::RaftState;

// In-memory LogDB (nothing survives the process). Same semantics as RocksLogDB.
std::unique_ptr<LogDB> new_mem_logdb(uint64_t shards = 1);

}  // namespace dragonboat::logdb
