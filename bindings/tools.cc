// bindings/tools.cc — the offline tools behind the `dragonboat` command:
// info (what a NodeHost directory holds) and import-snapshot (repair).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dragonboat/tools.h"
#include "logdb/host_storage.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"

namespace py = pybind11;
using namespace dragonboat;

namespace {

void raise_status(const Status& s) {
  if (s.ok()) return;
  py::object cls = py::module_::import("dragonboat.errors").attr("error_class")(error_code_name(s.code()));
  PyErr_SetObject(cls.ptr(), cls(s.message()).ptr());
  throw py::error_already_set();
}

}  // namespace

void register_tools(py::module_& m) {
  m.def(
      "host_dir_info",
      [](const std::string& dir) {
        logdb::HostDirInfo info;
        Status s;
        {
          py::gil_scoped_release nogil;
          s = logdb::read_host_dir_info(dir, &info);
        }
        raise_status(s);
        py::dict out;
        out["raft_address"] = info.raft_address;
        out["deployment_id"] = info.deployment_id;
        out["logdb_type"] = info.logdb_type;
        out["logdb_shards"] = info.logdb_shards;
        out["format_version"] = info.format_version;
        // The LogDB (this takes the directory lock: the NodeHost must be stopped).
        logdb::HostStorage storage;
        logdb::RocksLogDBOptions o;
        o.shards = info.logdb_shards;
        std::vector<logdb::NodeInfo> nodes;
        {
          py::gil_scoped_release nogil;
          s = logdb::open_host_storage(dir, info, o, &storage);
          if (s.ok()) s = storage.logdb->list_nodes(&nodes);
        }
        raise_status(s);
        py::list groups;
        for (const auto& n : nodes) {
          logdb::RaftState rs;
          raft::Snapshot ss;
          logdb::Bootstrap b;
          Status a = storage.logdb->read_raft_state(n.cluster_id, n.node_id, &rs);
          Status sn = storage.logdb->get_snapshot(n.cluster_id, n.node_id, &ss);
          (void)storage.logdb->get_bootstrap(n.cluster_id, n.node_id, &b);
          py::dict g;
          g["cluster_id"] = n.cluster_id;
          g["node_id"] = n.node_id;
          g["term"] = a.ok() ? rs.state.term : 0;
          g["vote"] = a.ok() ? rs.state.vote : 0;
          g["commit"] = a.ok() ? rs.state.commit : 0;
          g["first_index"] = a.ok() ? rs.first_index : 0;
          g["last_index"] = a.ok() ? rs.last_index : 0;
          g["snapshot_index"] = sn.ok() ? ss.index : 0;
          g["snapshot_file"] = sn.ok() ? ss.filepath : "";
          g["initial_members"] = b.addresses;
          g["join"] = b.join;
          g["state_machine_type"] = static_cast<int>(b.state_machine_type);
          groups.append(g);
        }
        out["nodes"] = groups;
        return out;
      },
      py::arg("dir"), "What a (stopped) NodeHost directory holds.");

  m.def(
      "check_exported_snapshot",
      [](const std::string& src) {
        snapshot::SnapshotMeta meta;
        std::string dir = src;
        Status s = snapshot::read_meta_file(snapshot::meta_file_path(src), &meta);
        if (!s.ok()) {
          s = snapshot::latest_snapshot(src, &meta);
          dir = snapshot::snapshot_dir(src, meta.index);
        }
        raise_status(s);
        snapshot::DataFileInfo fi;
        {
          py::gil_scoped_release nogil;
          s = snapshot::validate_file(snapshot::data_file_path(dir, meta.index), &fi);
        }
        raise_status(s);
        py::dict d;
        d["cluster_id"] = meta.cluster_id;
        d["node_id"] = meta.node_id;
        d["index"] = meta.index;
        d["term"] = meta.term;
        d["file_size"] = fi.file_size;
        d["dir"] = dir;
        return d;
      },
      py::arg("src"), "Verifies an exported snapshot block by block; its metadata.");

  m.def(
      "import_snapshot",
      [](const py::object& cfg, const std::string& src, std::map<uint64_t, std::string> members, uint64_t node_id) {
        NodeHostConfig c;
        c.node_host_dir = cfg.attr("node_host_dir").cast<std::string>();
        c.raft_address = cfg.attr("raft_address").cast<std::string>();
        c.deployment_id = cfg.attr("deployment_id").cast<uint64_t>();
        c.logdb_shards = cfg.attr("logdb_shards").cast<uint64_t>();
        Status s;
        {
          py::gil_scoped_release nogil;
          s = tools::import_snapshot(c, src, members, node_id);
        }
        raise_status(s);
      },
      py::arg("config"), py::arg("src"), py::arg("members"), py::arg("node_id"),
      "Repair: makes an exported snapshot the node's only state (dragonboat/tools.h).");
}
