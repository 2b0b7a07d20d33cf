// plugin.cc — Plugin::load (dlopen, the ABI check) and starting a replica
// with a plugin's state machine (dragonboat/plugin.h).
#include "dragonboat/plugin.h"

#include <dlfcn.h>

#include <memory>
#include <mutex>

#include "dragonboat/nodehost.h"

namespace dragonboat {

namespace {

using VersionFn = uint32_t (*)();

Status load_error(const std::string& path, const std::string& why) {
  return Status(ErrorCode::kInvalidOperation, "plugin " + path + ": " + why);
}

}  // namespace

Status Plugin::load(const std::string& path, Plugin* out) {
  // Loaded plugins stay loaded for the process (never dlclose'd once
  // accepted): state machines made by them may outlive any one NodeHost.
  static std::mutex mu;
  static std::map<std::string, CreateFn> loaded;
  std::lock_guard<std::mutex> g(mu);
  auto it = loaded.find(path);
  if (it == loaded.end()) {
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = ::dlerror();
      return load_error(path, std::string("cannot be loaded: ") + (why ? why : "unknown dlopen error"));
    }
    auto version = reinterpret_cast<VersionFn>(::dlsym(h, "dragonboat_plugin_abi_version"));
    auto create = reinterpret_cast<CreateFn>(::dlsym(h, "dragonboat_create_state_machine"));
    if (!version || !create) {
      ::dlclose(h);
      return load_error(path, "does not export dragonboat_plugin_abi_version and "
                              "dragonboat_create_state_machine (use DRAGONBOAT_PLUGIN)");
    }
    if (const uint32_t v = version(); v != kPluginABIVersion) {
      ::dlclose(h);
      return load_error(path, "was built for plugin ABI " + std::to_string(v) + ", this library implements " +
                                  std::to_string(kPluginABIVersion));
    }
    it = loaded.emplace(path, create).first;
  }
  out->path_ = path;
  out->create_ = it->second;
  return Status::OK();
}

namespace {

// The engine's factory hands over a state machine made before the start:
// the plugin's kind decides which start_* is called. Held until then, and
// freed with the holder if the start fails.
template <typename SM>
auto hand_over(SM* sm) {
  auto held = std::make_shared<std::unique_ptr<SM>>(sm);
  return [held](uint64_t, uint64_t) { return std::move(*held); };
}

}  // namespace

Status Plugin::start_cluster(NodeHost* nh, const std::map<uint64_t, std::string>& initial_members, bool join,
                             const Config& config) const {
  if (!create_) return Status(ErrorCode::kInvalidOperation, "the plugin is not loaded (Plugin::load)");
  uint32_t kind = 0;
  void* sm = create_(config.cluster_id, config.node_id, &kind);
  if (!sm) return load_error(path_, "its factory returned null");
  // Checked before the cast: the enum is narrower than the ABI's uint32_t.
  const bool known = kind >= static_cast<uint32_t>(StateMachineType::kRegular) &&
                     kind <= static_cast<uint32_t>(StateMachineType::kOnDisk);
  switch (known ? static_cast<StateMachineType>(kind) : StateMachineType{}) {
    case StateMachineType::kRegular:
      return nh->start_cluster(initial_members, join, hand_over(static_cast<IStateMachine*>(sm)), config);
    case StateMachineType::kConcurrent:
      return nh->start_concurrent_cluster(initial_members, join,
                                          hand_over(static_cast<IConcurrentStateMachine*>(sm)), config);
    case StateMachineType::kOnDisk:
      return nh->start_on_disk_cluster(initial_members, join, hand_over(static_cast<IOnDiskStateMachine*>(sm)),
                                       config);
  }
  // An unknown kind: the object's type is unknown too, so it cannot be
  // freed safely; it leaks (once per failed start).
  return load_error(path_, "its factory reported unknown kind " + std::to_string(kind));
}

}  // namespace dragonboat
