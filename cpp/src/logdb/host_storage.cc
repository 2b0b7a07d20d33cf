#include "logdb/host_storage.h"

namespace dragonboat::logdb {

Status open_host_storage(const std::string& dir, const HostDirInfo& info, RocksLogDBOptions options,
                         HostStorage* out) {
  if (info.logdb_type != "rocksdb") {
    return Status(ErrorCode::kInvalidOperation, "host storage: only the rocksdb LogDB is on disk");
  }
  if (options.shards != info.logdb_shards) {
    return Status(ErrorCode::kHardSettingsChanged, "host storage: LogDB options ask for " +
                                                       std::to_string(options.shards) + " shards, info for " +
                                                       std::to_string(info.logdb_shards));
  }
  HostStorage hs;
  Status s = HostDir::open(dir, info, &hs.dir);
  if (!s.ok()) return s;
  options.dir = dir + "/logdb";
  s = open_rocks_logdb(options, &hs.logdb);
  if (!s.ok()) return s;
  *out = std::move(hs);
  return Status::OK();
}

Status open_host_storage(const std::string& dir, HostDirInfo info, const raftio::LogDBFactory& factory,
                         raftio::LogDBArgs args, HostStorage* out) {
  HostStorage hs;
  args.dir = dir + "/logdb";
  args.shards = info.logdb_shards;
  Status s = factory(args, &hs.logdb);
  if (s.ok() && !hs.logdb) s = Status(ErrorCode::kInvalidOperation, "the LogDB factory returned no LogDB");
  if (!s.ok()) return Status(s.code(), "logdb_factory: " + s.message());
  if (hs.logdb->shard_count() != info.logdb_shards) {
    return Status(ErrorCode::kInvalidOperation, "logdb_factory: the LogDB has " +
                                                    std::to_string(hs.logdb->shard_count()) + " shards, not the " +
                                                    std::to_string(info.logdb_shards) + " it was asked for");
  }
  info.logdb_type = hs.logdb->name();
  const bool plain = !info.logdb_type.empty() &&
                     info.logdb_type.find_first_of(" \t\r\n=") == std::string::npos;
  if (!plain) {
    return Status(ErrorCode::kInvalidOperation, "logdb_factory: the LogDB's name() \"" + info.logdb_type +
                                                    "\" must be one word (it is recorded in the flag file)");
  }
  // Locked and checked before anything is read or written through the LogDB.
  std::unique_ptr<HostDir> d;
  s = HostDir::open(dir, info, &d);
  if (!s.ok()) return s;
  out->logdb.reset();
  out->dir = std::move(d);
  out->logdb = std::move(hs.logdb);
  return Status::OK();
}

}  // namespace dragonboat::logdb
