// dragonboat/plugin.h — state machines in C++ loaded from a shared object.
//
// A plugin exports two extern "C" symbols; Plugin::load (below) loads it
// with dlopen, for the Python package and for C++ users:
//   uint32_t dragonboat_plugin_abi_version();   // must return kPluginABIVersion
//   void* dragonboat_create_state_machine(uint64_t cluster_id, uint64_t node_id,
//                                         uint32_t* kind);
// The factory returns a new IStateMachine* (kind 1), IConcurrentStateMachine*
// (2) or IOnDiskStateMachine* (3), owned by the engine from then on. Build
// the plugin with the same compiler and dragonboat headers as the library
// (C++ objects cross the boundary); the ABI version guards the interface.
// DRAGONBOAT_PLUGIN(Class) defines both symbols for a regular state machine
// with a (cluster_id, node_id) constructor.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "dragonboat/config.h"
#include "dragonboat/statemachine.h"
#include "dragonboat/status.h"

namespace dragonboat {

// Bumped whenever dragonboat/statemachine.h changes incompatibly.
// 2: IStateMachine::batch_update.
// 3: IOnDiskStateMachine::open takes a StopSignal; snapshot writers and
//    readers carry external files (add_file, files).
inline constexpr uint32_t kPluginABIVersion = 3;

// What a plugin's factory reports in *kind (as a uint32_t).
using PluginKind = StateMachineType;

class NodeHost;

// A loaded plugin: its state machine factory. Copyable; cheap.
class Plugin {
 public:
  // Loads the shared object at `path` and checks that it exports both
  // symbols and was built for kPluginABIVersion. A path is loaded once per
  // process and stays loaded (state machines it made may outlive any
  // NodeHost). kInvalidOperation, naming the path, when it cannot be loaded
  // (dlopen's reason), lacks a symbol or was built for another ABI.
  static Status load(const std::string& path, Plugin* out);

  // Starts a replica on `nh` with a new state machine from the plugin, as
  // NodeHost::start_cluster / start_concurrent_cluster /
  // start_on_disk_cluster after the kind the plugin reports (same
  // arguments, same errors); kInvalidOperation when the plugin's factory
  // returns null or an unknown kind. The state machine is freed if the
  // start fails.
  Status start_cluster(NodeHost* nh, const std::map<uint64_t, std::string>& initial_members, bool join,
                       const Config& config) const;

  // The path it was loaded from.
  const std::string& path() const { return path_; }

 private:
  using CreateFn = void* (*)(uint64_t cluster_id, uint64_t node_id, uint32_t* kind);
  std::string path_;
  CreateFn create_ = nullptr;
};

}  // namespace dragonboat

#define DRAGONBOAT_PLUGIN(Class)                                                                  \
  extern "C" __attribute__((visibility("default"))) uint32_t dragonboat_plugin_abi_version() {    \
    return dragonboat::kPluginABIVersion;                                                         \
  }                                                                                               \
  extern "C" __attribute__((visibility("default"))) void* dragonboat_create_state_machine(       \
      uint64_t cluster_id, uint64_t node_id, uint32_t* kind) {                                    \
    *kind = static_cast<uint32_t>(dragonboat::PluginKind::kRegular);                              \
    return static_cast<dragonboat::IStateMachine*>(new Class(cluster_id, node_id));               \
  }
