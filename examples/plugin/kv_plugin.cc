// examples/plugin/kv_plugin.cc — a key-value state machine in C++, loaded
// by the Python package as a plugin:
//   nh.start_cluster(members, False, None, config, plugin="libdragonboat_kv_plugin.so")
// Commands are b"key=value"; a query is a key and answers its value (b"" if
// absent). The result value is the number of keys.
#include <cstring>
#include <map>
#include <string>

#include "dragonboat/plugin.h"

namespace {

class KVPlugin : public dragonboat::IStateMachine {
 public:
  KVPlugin(uint64_t, uint64_t) {}
  dragonboat::Status update(std::string_view cmd, dragonboat::Result* r) override {
    auto eq = cmd.find('=');
    if (eq == std::string_view::npos) {
      return dragonboat::Status(dragonboat::ErrorCode::kInvalidOperation, "command is not key=value");
    }
    data_[std::string(cmd.substr(0, eq))] = std::string(cmd.substr(eq + 1));
    r->value = data_.size();
    return dragonboat::Status::OK();
  }
  dragonboat::Status lookup(std::string_view q, std::string* a) override {
    auto it = data_.find(std::string(q));
    *a = it == data_.end() ? "" : it->second;
    return dragonboat::Status::OK();
  }
  dragonboat::Status save_snapshot(dragonboat::ISnapshotWriter* w) override {
    std::string out;
    for (const auto& [k, v] : data_) {
      uint32_t kl = k.size(), vl = v.size();
      out.append(reinterpret_cast<const char*>(&kl), 4).append(k);
      out.append(reinterpret_cast<const char*>(&vl), 4).append(v);
    }
    return w->write(out.data(), out.size());
  }
  dragonboat::Status recover_from_snapshot(dragonboat::ISnapshotReader* r) override {
    std::string in;
    char buf[4096];
    for (size_t got = 1; got > 0;) {
      dragonboat::Status s = r->read(buf, sizeof(buf), &got);
      if (!s.ok()) return s;
      in.append(buf, got);
    }
    data_.clear();
    for (size_t p = 0; p + 4 <= in.size();) {
      uint32_t kl, vl;
      std::memcpy(&kl, in.data() + p, 4);
      std::string k = in.substr(p + 4, kl);
      p += 4 + kl;
      std::memcpy(&vl, in.data() + p, 4);
      data_[k] = in.substr(p + 4, vl);
      p += 4 + vl;
    }
    return dragonboat::Status::OK();
  }

 private:
  std::map<std::string, std::string> data_;
};

}  // namespace

DRAGONBOAT_PLUGIN(KVPlugin)
