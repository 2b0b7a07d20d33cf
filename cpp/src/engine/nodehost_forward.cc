// engine/nodehost_forward.cc — NodeHost::Impl as the transport's
// MessageHandler: received messages, unreachable and snapshot-status
// feedback go to their replica (whose step worker is woken), learnt
// addresses to the registry, connection changes to the event listeners.
// Runs on the transport's I/O thread.
#include "engine/nodehost_impl.h"

namespace dragonboat {

void NodeHost::Impl::handle_messages(std::vector<raft::Message> messages) {
  std::vector<std::shared_ptr<Node>> woken;
  {
    std::shared_lock<std::shared_mutex> g(mu);
    for (auto& m : messages) {
      auto it = nodes.find(m.cluster_id);
      if (it == nodes.end() || it->second.node->node_id() != m.to) continue;  // not ours: dropped
      if (m.type == raft::MessageType::kInstallSnapshot) {
        SnapshotInfo si{m.cluster_id, m.to, m.from, m.snapshot.index};
        events->system([si](ISystemEventListener& l) { l.snapshot_received(si); });
      }
      it->second.node->deliver(std::move(m));
      woken.push_back(it->second.node);
    }
  }
  for (auto& n : woken) step_worker(n->cluster_id()).wake(n);
}

void NodeHost::Impl::learn_address(uint64_t cluster_id, uint64_t node_id, const std::string& address) {
  if (find(cluster_id)) registry.add_if_absent(cluster_id, node_id, address);
}

void NodeHost::Impl::handle_unreachable(uint64_t cluster_id, uint64_t node_id) {
  if (auto n = find(cluster_id)) {
    n->report_unreachable(node_id);
    step_worker(cluster_id).wake(n);
  }
}

void NodeHost::Impl::connection_event(const std::string& address, bool snapshot, bool failed) {
  ConnectionInfo ci{address, snapshot};
  events->system([ci, failed](ISystemEventListener& l) {
    if (failed) {
      l.connection_failed(ci);
    } else {
      l.connection_established(ci);
    }
  });
}

void NodeHost::Impl::handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, uint64_t index, bool failed) {
  if (auto n = find(cluster_id)) {
    SnapshotInfo si{cluster_id, n->node_id(), node_id, index};
    events->system([si, failed](ISystemEventListener& l) {
      if (failed) {
        l.send_snapshot_aborted(si);
      } else {
        l.send_snapshot_completed(si);
      }
    });
    n->report_snapshot_status(node_id, failed);
    step_worker(cluster_id).wake(n);
  }
}

}  // namespace dragonboat
