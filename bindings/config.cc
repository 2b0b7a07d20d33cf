// bindings/config.cc — see config.h. One table names every field Python sets
// of the C++ settings structs; conversion, the defaults Python reads and
// validation all go through it. Adding an option touches the C++ struct
// (dragonboat/config.h), its line here and the Python dataclass
// (python/dragonboat/config.py); tests/python/test_config_parity.py fails
// when the three disagree.
#include "config.h"

#include <pybind11/stl.h>

#include <string>
#include <type_traits>
#include <variant>

#include "errors.h"

namespace dragonboat::bindings {

namespace py = pybind11;

namespace {

// Which struct a member pointer belongs to, and the member's type.
template <typename M>
struct MemberOf;
template <typename S, typename T>
struct MemberOf<T S::*> {
  using Struct = S;
  using Type = T;
};

// A pointer to a member of any of the settings structs, of any type Python sets.
template <typename... S>
using AnyMember = std::variant<uint64_t S::*..., bool S::*..., std::string S::*..., CompressionType S::*...>;

struct Field {
  const char* name;
  AnyMember<Config, NodeHostConfig, SnapshotOption> member;
};

// Every field Python sets, of every settings struct, in the struct's order;
// the member pointer says which struct a row belongs to. NodeHostConfig's
// listeners are not here: they are objects (listeners.h).
const Field kFields[] = {
    {"node_id", &Config::node_id},
    {"cluster_id", &Config::cluster_id},
    {"check_quorum", &Config::check_quorum},
    {"election_rtt", &Config::election_rtt},
    {"heartbeat_rtt", &Config::heartbeat_rtt},
    {"snapshot_entries", &Config::snapshot_entries},
    {"compaction_overhead", &Config::compaction_overhead},
    {"ordered_config_change", &Config::ordered_config_change},
    {"max_in_mem_log_size", &Config::max_in_mem_log_size},
    {"max_apply_backlog", &Config::max_apply_backlog},
    {"disable_auto_compactions", &Config::disable_auto_compactions},
    {"is_observer", &Config::is_observer},
    {"is_witness", &Config::is_witness},
    {"quiesce", &Config::quiesce},
    {"snapshot_compression_type", &Config::snapshot_compression_type},
    {"entry_compression_type", &Config::entry_compression_type},
    {"deployment_id", &NodeHostConfig::deployment_id},
    {"wal_dir", &NodeHostConfig::wal_dir},
    {"node_host_dir", &NodeHostConfig::node_host_dir},
    {"rtt_millisecond", &NodeHostConfig::rtt_millisecond},
    {"raft_address", &NodeHostConfig::raft_address},
    {"listen_address", &NodeHostConfig::listen_address},
    {"mutual_tls", &NodeHostConfig::mutual_tls},
    {"ca_file", &NodeHostConfig::ca_file},
    {"cert_file", &NodeHostConfig::cert_file},
    {"key_file", &NodeHostConfig::key_file},
    {"max_send_queue_size", &NodeHostConfig::max_send_queue_size},
    {"max_receive_queue_size", &NodeHostConfig::max_receive_queue_size},
    {"max_snapshot_send_bytes_per_second", &NodeHostConfig::max_snapshot_send_bytes_per_second},
    {"max_snapshot_recv_bytes_per_second", &NodeHostConfig::max_snapshot_recv_bytes_per_second},
    {"notify_commit", &NodeHostConfig::notify_commit},
    {"max_proposal_payload_size", &NodeHostConfig::max_proposal_payload_size},
    {"logdb_shards", &NodeHostConfig::logdb_shards},
    {"apply_workers", &NodeHostConfig::apply_workers},
    {"snapshot_workers", &NodeHostConfig::snapshot_workers},
    {"max_pending_per_node", &NodeHostConfig::max_pending_per_node},
    {"busy_poll_microseconds", &NodeHostConfig::busy_poll_microseconds},
    {"exported", &SnapshotOption::exported},
    {"export_path", &SnapshotOption::export_path},
    {"override_compaction_overhead", &SnapshotOption::override_compaction_overhead},
    {"compaction_overhead", &SnapshotOption::compaction_overhead},
};

// Calls fn(name, member) for each field of S.
template <typename S, typename Fn>
void for_each_field(Fn&& fn) {
  for (const Field& f : kFields) {
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<typename MemberOf<decltype(member)>::Struct, S>) fn(f.name, member);
        },
        f.member);
  }
}

// The struct from the Python object's attributes of the same names (their
// types were checked by the dataclass's validate()).
template <typename S>
S from_python(const py::object& o) {
  S s;
  for_each_field<S>([&](const char* name, auto member) {
    s.*member = o.attr(name).template cast<typename MemberOf<decltype(member)>::Type>();
  });
  return s;
}

// [(name, default)] of every field, the defaults of a default-constructed S.
template <typename S>
py::list describe() {
  const S defaults{};
  py::list out;
  for_each_field<S>([&](const char* name, auto member) { out.append(py::make_tuple(name, py::cast(defaults.*member))); });
  return out;
}

}  // namespace

NodeHostConfig host_config(const py::object& c) { return from_python<NodeHostConfig>(c); }

Config raft_config(const py::object& c) { return from_python<Config>(c); }

SnapshotOption snapshot_option(const py::object& o) { return from_python<SnapshotOption>(o); }

void register_config(py::module_& m) {
  py::enum_<CompressionType> ct(m, "CompressionType", "How snapshot files are compressed (config.CompressionType).");
  ct.value("NO_COMPRESSION", CompressionType::kNoCompression)
      .value("SNAPPY", CompressionType::kSnappy)
      .value("LZ4", CompressionType::kLZ4);
  // pybind11 leaves the enum's value property without a docstring.
  ct.attr("value").attr("__doc__") = "The C++ enum's integer value.";
  m.def(
      "config_fields",
      [](const std::string& which) {
        if (which == "Config") return describe<Config>();
        if (which == "NodeHostConfig") return describe<NodeHostConfig>();
        if (which == "SnapshotOption") return describe<SnapshotOption>();
        throw py::value_error("which must be Config, NodeHostConfig or SnapshotOption, not " + which);
      },
      py::arg("which"), "[(field, C++ default)] of a settings struct, in the engine's order.");
  m.def(
      "validate_config", [](const py::object& c) { check(raft_config(c).validate()); }, py::arg("config"),
      "Config::validate on a dragonboat.Config: raises the error naming the bad field.");
  m.def(
      "validate_node_host_config", [](const py::object& c) { check(host_config(c).validate()); },
      py::arg("config"), "NodeHostConfig::validate on a dragonboat.NodeHostConfig.");
}

}  // namespace dragonboat::bindings
