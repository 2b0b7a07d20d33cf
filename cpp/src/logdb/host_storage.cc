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

}  // namespace dragonboat::logdb
