// bindings/tools.cc — the offline tools behind the `dragonboat` command:
// info (what a NodeHost directory holds) and import-snapshot (repair).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "config.h"
#include "dragonboat/tools.h"
#include "errors.h"
#include "fields.h"

namespace py = pybind11;
using namespace dragonboat;

// A failed Status raises its dragonboat.errors class.
using dragonboat::bindings::check;
using dragonboat::bindings::check_nogil;
using dragonboat::bindings::field;
using dragonboat::bindings::host_config;
using dragonboat::bindings::to_dict;

void register_tools(py::module_& m) {
  m.def(
      "host_dir_info",
      [](const std::string& dir, const std::string& wal_dir) {
        tools::HostDirInfo info;
        check_nogil([&] { return tools::read_host_dir(dir, wal_dir, &info); });
        py::dict out = to_dict(info, field("raft_address", &tools::HostDirInfo::raft_address),
                               field("deployment_id", &tools::HostDirInfo::deployment_id),
                               field("logdb_type", &tools::HostDirInfo::logdb_type),
                               field("logdb_shards", &tools::HostDirInfo::logdb_shards),
                               field("format_version", &tools::HostDirInfo::format_version));
        py::list groups;
        using N = tools::NodeDirInfo;
        for (const N& n : info.nodes) {
          py::dict g = to_dict(n, field("cluster_id", &N::cluster_id), field("node_id", &N::node_id),
                               field("term", &N::term), field("vote", &N::vote), field("commit", &N::commit),
                               field("first_index", &N::first_index), field("last_index", &N::last_index),
                               field("snapshot_index", &N::snapshot_index), field("snapshot_file", &N::snapshot_file),
                               field("initial_members", &N::initial_members), field("join", &N::join));
          g["state_machine_type"] = static_cast<int>(n.state_machine_type);
          groups.append(g);
        }
        out["nodes"] = groups;
        return out;
      },
      py::arg("dir"), py::arg("wal_dir") = "",
      "What a (stopped) NodeHost directory, with its LogDB's WAL in wal_dir, holds (tools::read_host_dir).");

  m.def(
      "check_exported_snapshot",
      [](const std::string& src) {
        tools::ExportedSnapshotInfo info;
        check_nogil([&] { return tools::check_exported_snapshot(src, &info); });
        using E = tools::ExportedSnapshotInfo;
        py::dict d = to_dict(info, field("cluster_id", &E::cluster_id), field("node_id", &E::node_id),
                             field("index", &E::index), field("term", &E::term), field("file_size", &E::file_size),
                             field("dir", &E::dir));
        return d;
      },
      py::arg("src"), "Verifies an exported snapshot block by block; its metadata.");

  m.def(
      "import_snapshot",
      [](const py::object& cfg, const std::string& src, std::map<uint64_t, std::string> members, uint64_t node_id) {
        // Every field, as for a NodeHost (wal_dir included); not the listeners.
        NodeHostConfig c = host_config(cfg);
        check_nogil([&] { return tools::import_snapshot(c, src, members, node_id); });
      },
      py::arg("config"), py::arg("src"), py::arg("members"), py::arg("node_id"),
      "Repair: makes an exported snapshot the node's only state (dragonboat/tools.h).");
}
