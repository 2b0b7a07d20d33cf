#include "transport/transport.h"

namespace dragonboat::transport {

void NodeRegistry::add(uint64_t c, uint64_t n, const std::string& address) {
  std::unique_lock<std::shared_mutex> g(mu_);
  addresses_[{c, n}] = address;
}

bool NodeRegistry::add_if_absent(uint64_t c, uint64_t n, const std::string& address) {
  {
    std::shared_lock<std::shared_mutex> g(mu_);
    if (addresses_.count({c, n})) return false;  // the common case: known
  }
  std::unique_lock<std::shared_mutex> g(mu_);
  return addresses_.emplace(std::make_pair(c, n), address).second;
}

void NodeRegistry::remove(uint64_t c, uint64_t n) {
  std::unique_lock<std::shared_mutex> g(mu_);
  addresses_.erase({c, n});
}

void NodeRegistry::remove_cluster(uint64_t c) {
  std::unique_lock<std::shared_mutex> g(mu_);
  auto end = c == UINT64_MAX ? addresses_.end() : addresses_.lower_bound({c + 1, 0});
  addresses_.erase(addresses_.lower_bound({c, 0}), end);
}

bool NodeRegistry::resolve(uint64_t c, uint64_t n, std::string* address) const {
  std::shared_lock<std::shared_mutex> g(mu_);
  auto it = addresses_.find({c, n});
  if (it == addresses_.end()) return false;
  *address = it->second;
  return true;
}

}  // namespace dragonboat::transport
