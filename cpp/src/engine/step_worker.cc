#include "engine/step_worker.h"

#include <algorithm>
#include <chrono>

namespace dragonboat::engine {

namespace {
// A pass's sends as one batch of the transport (raftio::ITransport::
// begin_send_batch): what the pass sends goes out at flush(), one write per
// peer; the destructor flushes whatever is left on every way out.
class SendBatch {
 public:
  explicit SendBatch(raftio::ITransport* t) : t_(t) {
    if (t_) t_->begin_send_batch();
  }
  ~SendBatch() {
    if (t_) t_->end_send_batch();
  }
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  void flush(bool from_this_thread) {
    if (t_) t_->flush_sends(from_this_thread);
  }

 private:
  raftio::ITransport* t_;
};

void trace_saves(tracing::Hop hop, const std::vector<logdb::NodeUpdate>& saves) {
  if (!tracing::enabled()) return;
  for (const auto& nu : saves)
    if (!nu.entries.empty()) tracing::trace(hop, nu.cluster_id, nu.node_id, nu.entries.back().index);
}
}  // namespace

void StepWorker::note_election_timeout(double seconds) {
  const uint64_t us = uint64_t(seconds * 1e6);
  uint64_t cur = election_timeout_us_.load();
  while (us < cur && !election_timeout_us_.compare_exchange_weak(cur, us)) {
  }
}

uint64_t StepWorker::pass_budget() const {
  const uint64_t timeout_us = election_timeout_us_.load();
  if (save_rate_ == 0 || timeout_us == UINT64_MAX) return kInitialPassEntryBytes;
  const double bytes = save_rate_ * (double(timeout_us) / 1e6) / 5;
  return std::clamp<uint64_t>(uint64_t(bytes), kMinPassEntryBytes, kMaxPassEntryBytes);
}

Status StepWorker::run_pass(const std::vector<std::shared_ptr<Node>>& nodes) {
  {
    std::lock_guard<std::mutex> g(mu_);
    ++stats_.passes;
  }
  SendBatch sends(transport_);
  std::vector<Node*> live;
  // The entry bytes this pass takes in (the rest waits for the next one): a
  // pass's save, and every heartbeat and acknowledgement behind it, then
  // takes milliseconds, never an election timeout.
  uint64_t budget = pass_budget();
  // Nodes whose last pass ran out of budget (input left in their inbox) go
  // first, in the order they were cut short, so a node the budget skipped
  // is served in the next pass: no group waits more than one pass behind
  // the others, however the wake-ups order the batch.
  std::vector<Node*> order;
  order.reserve(nodes.size());
  for (const auto& n : nodes) order.push_back(n.get());
  std::stable_partition(order.begin(), order.end(), [](const Node* n) { return n->deferred(); });
  for (Node* n : order) {
    if (n->step_inputs(&budget).ok()) live.push_back(n);
  }
  // Nodes may produce further updates after finishing one (e.g. a leader's
  // commit after its own persist); keep going until all are quiet.
  Status result = Status::OK();
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
      if (persisted.back()) saves.push_back(std::move(nu));
      updates.push_back(std::move(u));
    }
    if (stepped.empty()) break;
    // When no save of the round must be synced (only commit indexes moved,
    // Update::must_sync), nothing it writes is a promise (thesis §3.8): the
    // committed entries are already durable here and on a quorum. Apply and
    // send first, write after: the leader's commit no longer waits for a
    // LogDB write before its state machine sees the entry.
    const bool promise_free = !saves.empty() && std::none_of(saves.begin(), saves.end(),
                                                             [](const logdb::NodeUpdate& nu) { return nu.must_sync; });
    // finish() consumes a node's save; before the write it gets a copy.
    auto finish_round = [&](bool saves_still_to_write) {
      size_t next_save = 0;
      for (size_t i = 0; i < stepped.size(); ++i) {
        logdb::NodeUpdate spare;
        logdb::NodeUpdate* nu = &spare;
        if (persisted[i]) {
          if (saves_still_to_write) {
            spare = saves[next_save++];
          } else {
            nu = &saves[next_save++];
          }
        }
        Status s = stepped[i]->finish(&updates[i], nu, persisted[i]);
        if (!s.ok()) stepped[i]->set_failure(s);
      }
    };
    if (promise_free) finish_round(true);
    // A synced save puts this round's messages on a request's critical
    // path: the leader's Replicates (thesis §10.2.1: they leave before its
    // own fsync) and, after it, the acknowledgements. The step worker then
    // writes them itself; the rest (commit broadcasts of a round with
    // nothing to sync) is handed to the I/O thread, leaving this thread
    // free for the next proposal.
    const bool critical = !saves.empty() && !promise_free;
    sends.flush(critical);
    if (!saves.empty()) {
      trace_saves(tracing::Hop::kSaveStart, saves);
      uint64_t bytes = 0;
      for (const auto& nu : saves) bytes += raft::entries_size_bytes(nu.entries);
      auto t0 = std::chrono::steady_clock::now();
      Status s = db_->save(saves);  // ONE write batch, ONE fsync for all of them
      trace_saves(tracing::Hop::kSaveEnd, saves);
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      sync_latency_.observe(took);
      if (bytes >= kMinPassEntryBytes && took > 0) {
        // Small saves measure the disk's latency, not its rate: left out.
        const double rate = double(bytes) / took;
        save_rate_ = save_rate_ == 0 ? rate : 0.8 * save_rate_ + 0.2 * rate;
      }
      {
        std::lock_guard<std::mutex> g(mu_);
        ++stats_.saves;
        stats_.node_updates += saves.size();
      }
      if (!s.ok()) {
        // Never send or apply what failed to persist (a promise-free round
        // was finished already: nothing in it was a promise); a failed fsync
        // is not retried (the LogDB is fatal from now on).
        for (Node* n : live) n->set_failure(s);
        return s;
      }
    }
    if (!promise_free) finish_round(false);
    sends.flush(critical);  // acknowledgements, votes: after the save that backs them
  }
  // One reading of the shard's write stall serves every node of the pass
  // (they share the shard).
  bool busy = !live.empty() && db_->busy(live.front()->cluster_id());
  for (Node* n : live) {
    n->after_pass();
    n->set_storage_busy(busy);
  }
  return result;
}

}  // namespace dragonboat::engine
