// tools/tool_storage.h — opening a stopped NodeHost's LogDB for the offline
// tools (dragonboat/tools.h), with the write-ahead log where the NodeHost
// kept it (NodeHostConfig::wal_dir).
//
// Why the check: RocksDB opened without the WAL directory its data was
// written with sees none of the writes still only in that WAL (the engine
// does not flush on shutdown: read_host_dir would list no nodes), and what a
// tool writes then goes to a WAL the NodeHost never reads (an import would be
// lost). Thread-safety: as the tools (one at a time per directory).
#pragma once

#include <string>

#include "logdb/host_storage.h"

namespace dragonboat::tools {

// logdb::open_host_storage(dir, info, ...) with the LogDB's WAL in
// `wal_dir` (empty: beside the data, the engine's default), after checking
// that every existing shard's WAL is there: kHardSettingsChanged when a
// shard has data but no WAL file where `wal_dir` says (the NodeHost used
// another wal_dir, or none). Shards not created yet are not checked.
Status open_tool_storage(const std::string& dir, const logdb::HostDirInfo& info, const std::string& wal_dir,
                         logdb::HostStorage* out);

}  // namespace dragonboat::tools
