#include "engine/step_worker.h"

namespace dragonboat::engine {

Status StepWorker::run_once() {
  ++stats_.passes;
  std::vector<Node*> live;
  for (Node* n : nodes_)
    if (n->step_inputs().ok()) live.push_back(n);
  // Nodes may produce further updates after finishing one (e.g. a leader's
  // commit after its own persist); keep going until all are quiet.
  for (int round = 0; round < 16; ++round) {
    std::vector<Node*> stepped;
    std::vector<raft::Update> updates;
    std::vector<logdb::NodeUpdate> saves;
    std::vector<bool> persisted;
    for (Node* n : live) {
      if (n->stopped()) continue;
      raft::Update u;
      logdb::NodeUpdate nu;
      if (!n->prepare(&u, &nu)) continue;
      stepped.push_back(n);
      persisted.push_back(u.has_persistent_state());
      if (persisted.back()) saves.push_back(nu);
      updates.push_back(std::move(u));
    }
    if (stepped.empty()) break;
    if (!saves.empty()) {
      Status s = db_->save(saves);  // ONE write batch, ONE fsync for all of them
      ++stats_.saves;
      stats_.node_updates += saves.size();
      if (!s.ok()) {
        for (Node* n : nodes_) n->stop();
        return s;
      }
    }
    size_t next_save = 0;
    for (size_t i = 0; i < stepped.size(); ++i) {
      static const logdb::NodeUpdate kNone;
      const logdb::NodeUpdate& nu = persisted[i] ? saves[next_save++] : kNone;
      Status s = stepped[i]->finish(&updates[i], nu, persisted[i]);
      if (!s.ok()) stepped[i]->stop();  // a failed state machine stops its node only
    }
  }
  for (Node* n : live) n->after_pass();
  return Status::OK();
}

}  // namespace dragonboat::engine
