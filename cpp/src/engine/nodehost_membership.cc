// engine/nodehost_membership.cc — NodeHost's membership changes, leadership,
// node data removal and log compaction (dragonboat/nodehost.h).
#include "engine/nodehost_impl.h"

namespace dragonboat {

namespace {

Status membership_change(NodeHost::Impl* impl, uint64_t cluster_id, raft::ConfigChangeType type, uint64_t node_id,
                         const std::string& address, uint64_t ccid, Timeout timeout, RequestStatePtr* rs);

}  // namespace

Status NodeHost::request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address, uint64_t ccid,
                                  Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddNode, node_id, address, ccid, timeout,
                           rs);
}

Status NodeHost::request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                      uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddObserver, node_id, address, ccid,
                           timeout, rs);
}

Status NodeHost::request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                     uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddWitness, node_id, address, ccid,
                           timeout, rs);
}

Status NodeHost::request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t ccid, Timeout timeout,
                                     RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kRemoveNode, node_id, "", ccid, timeout,
                           rs);
}

Status NodeHost::sync_request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                       uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_node(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                           uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_observer(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                          uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_witness(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_delete_node(cluster_id, node_id, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_get_cluster_membership(uint64_t cluster_id, Timeout timeout, Membership* out) {
  RequestStatePtr rs;
  Status s = impl_->wait_started(read_index(cluster_id, timeout, &rs), rs, timeout);
  if (!s.ok()) return s;
  // The read index is applied here: the applied membership is at least as
  // new as any change acknowledged before the call.
  return get_cluster_membership(cluster_id, out);
}

Status NodeHost::remove_data(uint64_t cluster_id, uint64_t node_id) {
  std::lock_guard<std::mutex> sg(impl_->start_mu);  // no start of this node meanwhile
  {
    std::shared_lock<std::shared_mutex> g(impl_->mu);
    if (impl_->stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
    auto it = impl_->nodes.find(cluster_id);
    if (it != impl_->nodes.end() && it->second.node->node_id() == node_id) {
      return Status(ErrorCode::kClusterNotStopped, "node " + std::to_string(node_id) + " of cluster " +
                                                       std::to_string(cluster_id) + " is running: stop it first");
    }
  }
  Status s = impl_->storage.logdb->remove_node_data(cluster_id, node_id);
  if (!s.ok()) return s;
  std::string root = impl_->node_snapshot_root(cluster_id, node_id);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (!ec) std::filesystem::remove_all(root + "-stream", ec);
  if (ec) return Status(ErrorCode::kFatal, "removing " + root + ": " + ec.message());
  return Status::OK();
}

Status NodeHost::sync_remove_data(uint64_t cluster_id, uint64_t node_id, Timeout timeout) {
  uint64_t ticks = 0;
  Status s = impl_->ticks(timeout, &ticks);  // the same deadline rules as every sync_ call
  if (!s.ok()) return s;
  return remove_data(cluster_id, node_id);  // synchronous already
}

Status NodeHost::request_compaction(uint64_t cluster_id, uint64_t node_id, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup_node(cluster_id, node_id, &n);
  if (!s.ok()) return s;
  return n->request_compaction(rs);
}

Status NodeHost::request_leader_transfer(uint64_t cluster_id, uint64_t target_node_id) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  return n->request_leader_transfer(target_node_id);
}

namespace {

Status membership_change(NodeHost::Impl* impl, uint64_t cluster_id, raft::ConfigChangeType type, uint64_t node_id,
                         const std::string& address, uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  Status s = impl->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  uint64_t ticks = 0;
  s = impl->ticks(timeout, &ticks);
  if (!s.ok()) return s;
  if (node_id == 0) return Status(ErrorCode::kInvalidOperation, "node ID 0 is not a node");
  if (type != raft::ConfigChangeType::kRemoveNode) {
    std::string h;
    uint16_t p = 0;
    if (!transport::split_address(address, &h, &p) || p == 0) {
      return Status(ErrorCode::kInvalidAddress, "\"" + address + "\" is not host:port");
    }
  }
  raft::ConfigChange cc;
  cc.type = type;
  cc.node_id = node_id;
  cc.address = address;
  cc.config_change_id = ccid;
  return n->propose_config_change(cc, ticks, rs);
}

}  // namespace

Status NodeHost::get_leader_id(uint64_t cluster_id, uint64_t* leader_id, bool* valid) const {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *leader_id = n->leader_id();
  *valid = *leader_id != 0;
  return Status::OK();
}

}  // namespace dragonboat
