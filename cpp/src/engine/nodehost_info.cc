// engine/nodehost_info.cc — NodeHost's NodeUser, host information and
// membership reads (dragonboat/nodehost.h). Metrics: nodehost_metrics.cc.
#include "engine/nodehost_impl.h"

namespace dragonboat {

namespace {

class NodeUserImpl : public NodeUser {
 public:
  NodeUserImpl(NodeHost* nh, uint64_t cluster_id) : nh_(nh), cluster_id_(cluster_id) {}
  Status propose(const Session& session, std::string_view cmd, Timeout timeout, RequestStatePtr* rs) override {
    if (session.cluster_id != cluster_id_) {
      return Status(ErrorCode::kInvalidSession, "the session belongs to another cluster");
    }
    return nh_->propose(session, cmd, timeout, rs);
  }
  Status read_index(Timeout timeout, RequestStatePtr* rs) override { return nh_->read_index(cluster_id_, timeout, rs); }

 private:
  NodeHost* nh_;
  uint64_t cluster_id_;
};

}  // namespace

Status NodeHost::get_node_user(uint64_t cluster_id, std::shared_ptr<NodeUser>* out) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *out = std::make_shared<NodeUserImpl>(this, cluster_id);
  return Status::OK();
}

NodeHostInfo NodeHost::get_node_host_info(const NodeHostInfoOption& option) const {
  NodeHostInfo info;
  info.raft_address = impl_->config.raft_address;
  std::vector<std::shared_ptr<Node>> all;
  {
    std::shared_lock<std::shared_mutex> g(impl_->mu);
    for (auto& [id, e] : impl_->nodes) all.push_back(e.node);
    if (!option.skip_log_info && !impl_->stopped) {
      std::vector<logdb::NodeInfo> ni;
      if (impl_->storage.logdb->list_nodes(&ni).ok())
        for (const auto& x : ni) info.log_info.push_back(NodeInfo{x.cluster_id, x.node_id});
    }
  }
  for (auto& n : all) {
    ClusterInfo ci;
    ci.cluster_id = n->cluster_id();
    ci.node_id = n->node_id();
    raft::Membership m = n->membership();
    ci.nodes = m.addresses;
    ci.config_change_index = m.config_change_id;
    ci.state_machine_type = static_cast<StateMachineType>(n->sm_kind());
    ci.is_leader = n->is_leader();
    ci.is_observer = m.is_observer(n->node_id());
    ci.is_witness = m.is_witness(n->node_id());
    ci.pending = n->applied() == 0;
    info.cluster_info.push_back(std::move(ci));
  }
  return info;
}

bool NodeHost::has_node_info(uint64_t cluster_id, uint64_t node_id) const {
  std::shared_lock<std::shared_mutex> g(impl_->mu);
  if (impl_->stopped) return false;
  logdb::Bootstrap b;
  return impl_->storage.logdb->get_bootstrap(cluster_id, node_id, &b).ok();
}

Status NodeHost::get_cluster_membership(uint64_t cluster_id, Membership* out) const {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *out = to_public_membership(n->membership());
  return Status::OK();
}

}  // namespace dragonboat
