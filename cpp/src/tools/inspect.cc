// tools/inspect.cc — read_host_dir and check_exported_snapshot
// (dragonboat/tools.h): read-only looks at a stopped NodeHost's files.
#include "dragonboat/tools.h"
#include "logdb/host_storage.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "tools/tool_storage.h"

namespace dragonboat::tools {

Status read_host_dir(const std::string& dir, HostDirInfo* out) { return read_host_dir(dir, "", out); }

Status read_host_dir(const std::string& dir, const std::string& wal_dir, HostDirInfo* out) {
  logdb::HostDirInfo flag;
  Status s = logdb::read_host_dir_info(dir, &flag);
  if (!s.ok()) return s;
  *out = HostDirInfo();
  out->raft_address = flag.raft_address;
  out->deployment_id = flag.deployment_id;
  out->logdb_type = flag.logdb_type;
  out->logdb_shards = flag.logdb_shards;
  out->format_version = flag.format_version;
  // Opening the LogDB takes the directory lock: the NodeHost must be stopped.
  logdb::HostStorage storage;
  std::vector<logdb::NodeInfo> nodes;
  s = open_tool_storage(dir, flag, wal_dir, &storage);
  if (s.ok()) s = storage.logdb->list_nodes(&nodes);
  if (!s.ok()) return s;
  for (const auto& n : nodes) {
    NodeDirInfo d;
    d.cluster_id = n.cluster_id;
    d.node_id = n.node_id;
    // A node may lack any of the three records (e.g. a joined node has no
    // bootstrap members, a new one no snapshot): those fields stay 0/empty.
    logdb::RaftState rs;
    if (storage.logdb->read_raft_state(n.cluster_id, n.node_id, &rs).ok()) {
      d.term = rs.state.term;
      d.vote = rs.state.vote;
      d.commit = rs.state.commit;
      d.first_index = rs.first_index;
      d.last_index = rs.last_index;
    }
    raft::Snapshot ss;
    if (storage.logdb->get_snapshot(n.cluster_id, n.node_id, &ss).ok()) {
      d.snapshot_index = ss.index;
      d.snapshot_file = ss.filepath;
    }
    logdb::Bootstrap b;
    if (storage.logdb->get_bootstrap(n.cluster_id, n.node_id, &b).ok()) {
      d.initial_members = b.addresses;
      d.join = b.join;
      d.state_machine_type = b.state_machine_type;
    }
    out->nodes.push_back(std::move(d));
  }
  return Status::OK();
}

Status check_exported_snapshot(const std::string& src, ExportedSnapshotInfo* out) {
  snapshot::SnapshotMeta meta;
  std::string dir = src;
  // `src` is the snapshot's own directory (it has a metadata file), or the
  // export path holding snapshot directories.
  Status s = snapshot::read_meta_file(snapshot::meta_file_path(src), &meta);
  if (!s.ok()) {
    s = snapshot::latest_snapshot(src, &meta);
    if (!s.ok()) return s;
    dir = snapshot::snapshot_dir(src, meta.index);
  }
  snapshot::DataFileInfo fi;
  s = snapshot::validate_file(snapshot::data_file_path(dir, meta.index), &fi);
  if (!s.ok()) return s;
  *out = ExportedSnapshotInfo{meta.cluster_id, meta.node_id, meta.index, meta.term, fi.file_size, dir};
  return Status::OK();
}

}  // namespace dragonboat::tools
