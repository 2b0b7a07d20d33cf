// dragonboat/plugin.h — state machines in C++ loaded from a shared object.
//
// A plugin exports two extern "C" symbols; the Python package (and C++
// users) load it with dlopen:
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

#include "dragonboat/statemachine.h"

namespace dragonboat {

// Bumped whenever dragonboat/statemachine.h changes incompatibly.
// 2: IStateMachine::batch_update.
inline constexpr uint32_t kPluginABIVersion = 2;

enum class PluginKind : uint32_t { kRegular = 1, kConcurrent = 2, kOnDisk = 3 };

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
