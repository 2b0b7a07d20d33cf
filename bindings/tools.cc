// bindings/tools.cc — the offline tools behind the `dragonboat` command:
// info (what a NodeHost directory holds) and import-snapshot (repair).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dragonboat/tools.h"
#include "errors.h"

namespace py = pybind11;
using namespace dragonboat;

// A failed Status raises its dragonboat.errors class.
using dragonboat::bindings::check;
using dragonboat::bindings::check_nogil;

void register_tools(py::module_& m) {
  m.def(
      "host_dir_info",
      [](const std::string& dir) {
        tools::HostDirInfo info;
        check_nogil([&] { return tools::read_host_dir(dir, &info); });
        py::dict out;
        out["raft_address"] = info.raft_address;
        out["deployment_id"] = info.deployment_id;
        out["logdb_type"] = info.logdb_type;
        out["logdb_shards"] = info.logdb_shards;
        out["format_version"] = info.format_version;
        py::list groups;
        for (const tools::NodeDirInfo& n : info.nodes) {
          py::dict g;
          g["cluster_id"] = n.cluster_id;
          g["node_id"] = n.node_id;
          g["term"] = n.term;
          g["vote"] = n.vote;
          g["commit"] = n.commit;
          g["first_index"] = n.first_index;
          g["last_index"] = n.last_index;
          g["snapshot_index"] = n.snapshot_index;
          g["snapshot_file"] = n.snapshot_file;
          g["initial_members"] = n.initial_members;
          g["join"] = n.join;
          g["state_machine_type"] = static_cast<int>(n.state_machine_type);
          groups.append(g);
        }
        out["nodes"] = groups;
        return out;
      },
      py::arg("dir"), "What a (stopped) NodeHost directory holds (tools::read_host_dir).");

  m.def(
      "check_exported_snapshot",
      [](const std::string& src) {
        tools::ExportedSnapshotInfo info;
        check_nogil([&] { return tools::check_exported_snapshot(src, &info); });
        py::dict d;
        d["cluster_id"] = info.cluster_id;
        d["node_id"] = info.node_id;
        d["index"] = info.index;
        d["term"] = info.term;
        d["file_size"] = info.file_size;
        d["dir"] = info.dir;
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
        check_nogil([&] { return tools::import_snapshot(c, src, members, node_id); });
      },
      py::arg("config"), py::arg("src"), py::arg("members"), py::arg("node_id"),
      "Repair: makes an exported snapshot the node's only state (dragonboat/tools.h).");
}
