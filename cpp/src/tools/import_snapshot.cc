// tools/import_snapshot.cc — the repair tool (see dragonboat/tools.h).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "dragonboat/tools.h"
#include "logdb/host_storage.h"
#include "common/file_io.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "tools/tool_storage.h"

namespace dragonboat::tools {
namespace {

// Finds the exported snapshot directory and its flag file.
Status locate(const std::string& src_dir, std::string* dir, snapshot::SnapshotMeta* meta) {
  std::error_code ec;
  if (std::filesystem::exists(snapshot::meta_file_path(src_dir), ec)) {
    *dir = src_dir;
    return snapshot::read_meta_file(snapshot::meta_file_path(src_dir), meta);
  }
  snapshot::SnapshotMeta latest;
  Status s = snapshot::latest_snapshot(src_dir, &latest);
  if (!s.ok()) return Status(ErrorCode::kNoSnapshot, "no complete exported snapshot in " + src_dir);
  *dir = snapshot::snapshot_dir(src_dir, latest.index);
  *meta = latest;
  return Status::OK();
}

Status copy_file(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return io::io_error("open", from, errno);
  int out = -1;
  Status created = io::create_file(to, &out);
  if (!created.ok()) {
    (void)io::close_fd(&in, from);
    return created;
  }
  std::vector<char> buf(1 << 20);
  Status s;
  for (;;) {
    size_t got = 0;
    s = io::read_full(in, buf.data(), buf.size(), &got, from);
    if (!s.ok() || got == 0) break;
    s = io::write_all(out, buf.data(), got, to);
    if (!s.ok()) break;
  }
  if (s.ok()) s = io::fsync_fd(out, to);
  Status c1 = io::close_fd(&in, from);
  Status c2 = io::close_fd(&out, to);
  if (!s.ok()) return s;
  return c2.ok() ? c1 : c2;
}

}  // namespace

Status import_snapshot(const NodeHostConfig& config, const std::string& src_dir,
                       const std::map<uint64_t, std::string>& members, uint64_t node_id) {
  Status s = config.validate();
  if (!s.ok()) return s;
  if (node_id == 0 || !members.count(node_id)) {
    return Status(ErrorCode::kInvalidOperation, "members must include node_id " + std::to_string(node_id));
  }
  std::string dir;
  snapshot::SnapshotMeta meta;
  s = locate(src_dir, &dir, &meta);
  if (!s.ok()) return s;
  std::string data = snapshot::data_file_path(dir, meta.index);
  snapshot::DataFileInfo info;
  s = snapshot::validate_file(data, &info);  // every block, before anything changes
  if (!s.ok()) return s;
  // Take the directory (lock + flag file) and its LogDB.
  logdb::HostDirInfo hi;
  hi.raft_address = config.raft_address;
  hi.deployment_id = config.deployment_id;
  hi.logdb_shards = config.resolved_logdb_shards();
  logdb::HostStorage storage;
  s = open_tool_storage(config.node_host_dir, hi, config.wal_dir, &storage);
  if (!s.ok()) return s;
  // Copy the snapshot in with the directory protocol (crash-safe).
  std::string root = config.node_host_dir + "/snapshots/" + std::to_string(meta.cluster_id) + "-" + std::to_string(node_id);
  s = snapshot::remove_snapshots_before(root, UINT64_MAX);
  std::string tmp;
  if (s.ok()) s = snapshot::create_temp_dir(root, meta.index, snapshot::TempKind::kReceiving, &tmp);
  std::string copied = snapshot::data_file_path(tmp, meta.index);
  if (s.ok()) s = copy_file(data, copied);
  snapshot::SnapshotMeta mine = meta;
  mine.node_id = node_id;
  if (s.ok()) s = snapshot::commit_snapshot_dir(root, tmp, mine);
  if (!s.ok()) return s;
  raft::Snapshot ss;
  ss.index = meta.index;
  ss.term = meta.term;
  ss.membership.addresses = members;
  ss.membership.config_change_id = meta.index;
  ss.filepath = snapshot::data_file_path(snapshot::snapshot_dir(root, meta.index), meta.index);
  ss.file_size = info.file_size;
  return storage.logdb->import_snapshot(node_id, meta.cluster_id, ss);
}

}  // namespace dragonboat::tools
