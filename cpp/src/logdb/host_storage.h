// logdb/host_storage.h — opening a NodeHost's storage as one step.
//
// Takes the directory lock, checks (or writes) the flag file, and only then
// opens the RocksDB LogDB under <dir>/logdb with the shard count the flag file
// records, so a LogDB is never opened with settings that disagree with the
// data. The HostDir must outlive the LogDB (it holds the lock).
#pragma once

#include <memory>
#include <string>

#include "logdb/host_dir.h"
#include "logdb/logdb.h"
#include "logdb/rocks_logdb.h"

namespace dragonboat::logdb {

struct HostStorage {
  std::unique_ptr<HostDir> dir;  // declared first: destroyed after the LogDB
  std::unique_ptr<LogDB> logdb;
};

// `options.dir` is ignored (it becomes <dir>/logdb); options.shards must
// equal info.logdb_shards (kHardSettingsChanged otherwise, before any file is
// touched when the directory already exists).
Status open_host_storage(const std::string& dir, const HostDirInfo& info, RocksLogDBOptions options,
                         HostStorage* out);

// The same with an application's LogDB (NodeHostConfig::logdb_factory): the
// factory makes it first (args.dir = <dir>/logdb), then the directory is
// locked and its flag file checked against the LogDB's name() and
// info.logdb_shards (the LogDB's shard_count() must equal them).
Status open_host_storage(const std::string& dir, HostDirInfo info, const raftio::LogDBFactory& factory,
                         raftio::LogDBArgs args, HostStorage* out);

}  // namespace dragonboat::logdb
