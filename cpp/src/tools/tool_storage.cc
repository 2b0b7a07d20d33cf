// tools/tool_storage.cc — see tool_storage.h.
#include "tools/tool_storage.h"

#include <filesystem>
#include <system_error>

namespace dragonboat::tools {
namespace {

// Whether `dir` holds a RocksDB WAL file (NNNNNN.log; RocksDB always keeps
// the live one, even empty, after a clean close).
bool has_wal_file(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".log" && it->is_regular_file(type_ec)) return true;
  }
  return false;
}

}  // namespace

Status open_tool_storage(const std::string& dir, const logdb::HostDirInfo& info, const std::string& wal_dir,
                         logdb::HostStorage* out) {
  for (uint64_t i = 0; i < info.logdb_shards; ++i) {
    const std::string shard = "shard-" + std::to_string(i);
    const std::string data = dir + "/logdb/" + shard;
    std::error_code ec;
    if (!std::filesystem::exists(data + "/CURRENT", ec)) continue;  // not created yet
    const std::string wal = wal_dir.empty() ? data : wal_dir + "/" + shard;
    if (has_wal_file(wal)) continue;
    if (wal_dir.empty()) {
      return Status(ErrorCode::kHardSettingsChanged,
                    "the LogDB at " + data + " has its write-ahead log elsewhere: give the NodeHost's wal_dir");
    }
    return Status(ErrorCode::kHardSettingsChanged, "no write-ahead log of the LogDB at " + data + " in " + wal +
                                                       ": give the wal_dir the NodeHost used (none: leave it empty)");
  }
  logdb::RocksLogDBOptions o;
  o.shards = info.logdb_shards;
  o.wal_dir = wal_dir;
  return logdb::open_host_storage(dir, info, o, out);
}

}  // namespace dragonboat::tools
