// MemKV: an ordered std::map behind a mutex; writes are atomic and "durable"
// for the life of the process.
#include <map>
#include <mutex>
#include <variant>
#include <vector>

#include "logdb/kv.h"

namespace dragonboat::logdb {
namespace {

struct Put { std::string k, v; };
struct Del { std::string k; };
struct DelRange { std::string b, e; };
using Op = std::variant<Put, Del, DelRange>;

class MemBatch : public KVBatch {
 public:
  void put(const std::string& k, const std::string& v) override { ops.push_back(Put{k, v}); }
  void del(const std::string& k) override { ops.push_back(Del{k}); }
  void del_range(const std::string& b, const std::string& e) override { ops.push_back(DelRange{b, e}); }
  size_t count() const override { return ops.size(); }
  std::vector<Op> ops;
};

class MemKV : public KV {
 public:
  explicit MemKV(std::string name) : name_(std::move(name)) {}

  std::unique_ptr<KVBatch> new_batch() override { return std::make_unique<MemBatch>(); }

  Status write(KVBatch* batch, bool) override {
    auto* b = static_cast<MemBatch*>(batch);
    std::lock_guard<std::mutex> g(mu_);
    for (auto& op : b->ops) {
      if (auto* p = std::get_if<Put>(&op)) {
        data_[p->k] = p->v;
      } else if (auto* d = std::get_if<Del>(&op)) {
        data_.erase(d->k);
      } else {
        auto& r = std::get<DelRange>(op);
        data_.erase(data_.lower_bound(r.b), data_.lower_bound(r.e));
      }
    }
    return Status::OK();
  }

  Status get(const std::string& key, std::string* value, bool* found) override {
    std::lock_guard<std::mutex> g(mu_);
    auto it = data_.find(key);
    *found = it != data_.end();
    if (*found) *value = it->second;
    return Status::OK();
  }

  Status scan(const std::string& begin, const std::string& end,
              const std::function<bool(const char*, size_t, const char*, size_t)>& fn) override {
    std::lock_guard<std::mutex> g(mu_);
    for (auto it = data_.lower_bound(begin); it != data_.end() && it->first < end; ++it) {
      if (!fn(it->first.data(), it->first.size(), it->second.data(), it->second.size())) break;
    }
    return Status::OK();
  }

  Status last_key(const std::string& begin, const std::string& end, std::string* key,
                  bool* found) override {
    std::lock_guard<std::mutex> g(mu_);
    auto it = data_.lower_bound(end);
    *found = false;
    if (it == data_.begin()) return Status::OK();
    --it;
    if (it->first < begin) return Status::OK();
    *key = it->first;
    *found = true;
    return Status::OK();
  }

  Status compact_range(const std::string&, const std::string&) override { return Status::OK(); }
  std::string describe() const override { return name_; }

 private:
  std::string name_;
  std::mutex mu_;
  std::map<std::string, std::string> data_;
};

}  // namespace

std::unique_ptr<KV> new_mem_kv(std::string name) { return std::make_unique<MemKV>(std::move(name)); }

}  // namespace dragonboat::logdb
