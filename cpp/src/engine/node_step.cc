// engine/node_step.cc — the step side of a Node (its group's step worker):
// queued input into the peer, the Update out of it (Replicate sent before the
// local persist, thesis §10.2.1), and after the worker's shared LogDB save
// the rest of the Update: messages, config changes, committed entries handed
// to the apply side, confirmed reads; snapshots the apply side made are
// recorded into the log here.
#include <algorithm>

#include "dragonboat/logger.h"
#include "engine/node.h"
#include "snapshot/snapshot_dir.h"

namespace dragonboat::engine {

namespace {
// What a queued proposal counts against max_queued_proposal_bytes (as
// Node::propose counted it; membership changes do not count).
uint64_t queued_bytes(const raft::Entry& e) {
  return e.type == raft::EntryType::kConfigChange ? 0 : std::max<uint64_t>(1, e.cmd.size());
}
}  // namespace

Status Node::step_inputs(uint64_t* budget) {
  StepInbox in = std::move(spare_inbox_);  // empty; its vectors keep their room
  uint64_t base;  // the logical time before this pass's ticks
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    std::swap(in, inbox_);
    // A transfer taken out of the inbox counts as under way at once, so a
    // second request cannot slip in before after_pass publishes the core's.
    if (in.transfer_target) transferring_ = true;
    base = now_tick_;
    now_tick_ += in.ticks;
    busy_heartbeat_at_ = 0;  // the core takes over the heartbeats again
  }
  for (const MadeSnapshot& m : in.made_snapshots) record_snapshot(m);
  for (uint64_t id : in.unreachable) peer_->report_unreachable(id);
  for (auto& [id, failed] : in.snapshot_status) peer_->report_snapshot_status(id, failed);
  // Messages in arrival order, each after the ticks that passed before it
  // arrived: the election and quorum timers see when the leader (or a
  // follower) last spoke, not when this worker got round to it (§5.2).
  auto charge = [budget](uint64_t bytes) {
    if (budget) *budget -= std::min(*budget, bytes);
  };
  uint64_t ticked = 0;
  size_t taken = 0;
  bool took_entries = false;
  for (; taken < in.messages.size(); ++taken) {
    const uint64_t bytes = raft::entries_size_bytes(in.messages[taken].entries);
    if (budget && bytes && took_entries && bytes > *budget) break;  // the rest waits for the next pass
    for (; ticked < in.message_ticks[taken]; ++ticked) peer_->tick();
    if (tracing::enabled()) {
      const raft::Message& m = in.messages[taken];
      if (m.type == raft::MessageType::kReplicate && !m.entries.empty()) {
        tracing::trace(tracing::Hop::kStepped, cluster_id(), node_id(), m.entries.back().index, 0, m.from);
      }
    }
    (void)peer_->step(in.messages[taken]);
    if (bytes) {
      took_entries = true;
      charge(bytes);
    }
  }
  if (taken == in.messages.size()) {
    for (; ticked < in.ticks; ++ticked) peer_->tick();
  }
  // Proposals likewise, within the budget (at least one).
  size_t proposed = 0;
  uint64_t proposed_bytes = 0;
  for (; proposed < in.proposals.size(); ++proposed) {
    const uint64_t bytes = queued_bytes(in.proposals[proposed]);
    if (budget && proposed > 0 && bytes > *budget) break;
    charge(bytes);
    proposed_bytes += bytes;
  }
  deferred_ = taken < in.messages.size() || proposed < in.proposals.size();
  if (deferred_) defer(&in, taken, ticked, proposed, proposed_bytes);
  if (ticked) {
    const uint64_t now = base + ticked;
    pending_.expire(now);
    config_changes_.expire(now);
    reads_.expire(now);
    snapshot_reqs_.expire(now);
  }
  if (in.transfer_target) {
    uint64_t transfer = in.transfer_target;
    Status ts = peer_->request_leader_transfer(transfer);
    if (!ts.ok()) {
      log_message(LogLevel::kWarning, "engine", "leader transfer to " + std::to_string(transfer) + ": " + ts.to_string());
    }
  }
  in.proposals.resize(proposed);
  if (!in.proposals.empty()) {
    // All queued proposals of the node become one propose.
    std::vector<uint64_t> keys;  // only for tracing
    if (tracing::enabled()) {
      for (const auto& e : in.proposals) keys.push_back(e.key);
    }
    Status s = peer_->propose_from(&in.proposals);
    if (s.ok() && !keys.empty()) {
      // The proposals took the last keys.size() indexes of the log.
      const uint64_t first = peer_->raft().log().last_index() - keys.size() + 1;
      for (size_t i = 0; i < keys.size(); ++i)
        tracing::trace(tracing::Hop::kProposed, cluster_id(), node_id(), first + i, keys[i]);
    }
    if (!s.ok()) {
      // Refused before the core took any of them: the entries are still here.
      for (const auto& e : in.proposals) {
        auto code = s.code() == ErrorCode::kSystemBusy ? RequestResultCode::kDropped : RequestResultCode::kRejected;
        if (!pending_.complete(e.key, code)) config_changes_.complete(e.key, code);
      }
    }
  }
  if (!in.reads.empty()) {
    // All queued reads share one ReadIndex round.
    uint64_t round = ++read_round_ ? read_round_ : ++read_round_;  // never 0
    rounds_[round] = std::move(in.reads);
    if (!peer_->read_index(raft::ReadCtx{opt_.raft.node_id, round}).ok()) {
      for (uint64_t k : rounds_[round]) reads_.complete(k, RequestResultCode::kDropped);
      rounds_.erase(round);
    }
  }
  in.clear();
  spare_inbox_ = std::move(in);
  // Terms change only while stepping input (above): publish before the save.
  std::lock_guard<std::mutex> g(mu_);
  publish_follow_state();
  return Status::OK();
}

bool Node::prepare(raft::Update* u, logdb::NodeUpdate* nu) {
  // Backpressure from the apply side: committed entries wait in the log
  // while the state machine is behind (the rest of the Update still flows).
  bool more_to_apply = apply_backlog_.load() < opt_.config.max_apply_backlog;
  held_back_ = !more_to_apply;
  if (!peer_->has_update(more_to_apply)) return false;
  *u = peer_->get_update(more_to_apply);
  // Thesis §10.2.1: replicate to followers while persisting locally.
  for (const auto& m : u->messages) {
    if (!raft::can_send_before_persist(m)) continue;
    if (!m.entries.empty()) {
      tracing::trace(tracing::Hop::kReplicateSent, cluster_id(), node_id(), m.entries.back().index, 0, m.to);
    }
    transport_->send(m);
  }
  nu->cluster_id = opt_.raft.cluster_id;
  nu->node_id = opt_.raft.node_id;
  nu->state = u->state;
  nu->must_sync = u->must_sync;
  if (!u->entries_to_save.empty()) {
    // The entries move to the LogDB batch; commit_update() only needs the
    // last one's index and term.
    raft::Entry last;
    last.index = u->entries_to_save.back().index;
    last.term = u->entries_to_save.back().term;
    nu->entries = std::move(u->entries_to_save);
    u->entries_to_save.assign(1, std::move(last));
  }
  nu->snapshot = u->snapshot;
  return true;
}

void Node::apply_config_changes(const std::vector<raft::Entry>& committed, ApplyTask* task) {
  for (const auto& e : committed) {
    if (e.type != raft::EntryType::kConfigChange) continue;
    raft::ConfigChange cc;
    if (!raft::decode_config_change(e.cmd, &cc)) {
      config_changes_.complete_entry(e.key, RequestTag{e.client_id, e.series_id}, RequestResultCode::kRejected);
      continue;
    }
    // Peer contract: every config change of an Update is applied before the
    // next get_update (the core then allows the next change).
    Status cs = peer_->apply_config_change(cc, e.index);
    if (cs.ok() && registry_) {
      // The transport's address book follows membership.
      if (cc.type == raft::ConfigChangeType::kRemoveNode) {
        registry_->remove(opt_.raft.cluster_id, cc.node_id);
      } else {
        registry_->add(opt_.raft.cluster_id, cc.node_id, cc.address);
      }
    }
    if (cs.ok() && cc.type == raft::ConfigChangeType::kRemoveNode && cc.node_id == node_id()) removed_ = true;
    config_changes_.complete_entry(e.key, RequestTag{e.client_id, e.series_id},
                            cs.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected);
    task->membership_changed = true;
    if (cs.ok() && events) {
      NodeEventInfo ni{cluster_id(), node_id()};
      events->system([ni](ISystemEventListener& l) { l.membership_changed(ni); });
    }
  }
  if (task->membership_changed) task->membership = peer_->membership();
}

Status Node::finish(raft::Update* u, logdb::NodeUpdate* nu, bool saved) {
  if (saved) log_->on_saved(std::move(*nu));
  if (u->leader_changed) ++counters.leader_changes;
  if (u->leader_changed && events) {
    events->leader_updated(LeaderInfo{cluster_id(), node_id(), u->leader.term, u->leader.leader_id});
  }
  // Votes and acknowledgements promise persisted state: only now.
  for (auto& m : u->messages) {
    if (raft::can_send_before_persist(m)) continue;
    if (m.type == raft::MessageType::kInstallSnapshot) {
      if (sm_->kind() == StateMachineType::kOnDisk && !m.snapshot.witness) {
        // Our snapshots hold no state: the apply side makes a full one.
        {
          std::lock_guard<std::mutex> g(amu_);
          stream_asks_.push_back(std::move(m));
        }
        wake_apply();
      } else {
        note_snapshot_sent(m.to, m.snapshot.index);
        const uint64_t to = m.to;
        if (!transport_->send_snapshot(std::move(m))) {  // could not start: no status will come
          report_snapshot_status(to, true);
          wake_step();
        }
      }
    } else {
      if (m.type == raft::MessageType::kReplicateResp && !m.reject) {
        tracing::trace(tracing::Hop::kAckSent, cluster_id(), node_id(), m.log_index, 0, m.to);
      }
      transport_->send(m);
    }
  }
  for (uint64_t key : u->dropped_entries) {
    if (pending_.complete(key, RequestResultCode::kDropped) ||
        config_changes_.complete(key, RequestResultCode::kDropped)) {
      ++counters.proposals_dropped;
    }
  }
  for (const auto& c : u->dropped_read_indexes) {
    auto it = rounds_.find(c.high);
    if (it == rounds_.end()) continue;
    for (uint64_t k : it->second) reads_.complete(k, RequestResultCode::kDropped);
    rounds_.erase(it);
  }
  bool has_task = !u->snapshot.empty() || !u->committed_entries.empty();
  ApplyTask task;
  if (has_task) {
    task.recover = u->snapshot;
    if (!u->snapshot.empty()) {
      task.membership_changed = true;
      task.membership = u->snapshot.membership;
      if (task.membership.removed.count(node_id())) removed_ = true;
      if (registry_) {
        for (const auto* group : {&task.membership.addresses, &task.membership.observers, &task.membership.witnesses})
          for (const auto& [id, addr] : *group) registry_->add(opt_.raft.cluster_id, id, addr);
      }
    }
    apply_config_changes(u->committed_entries, &task);
    if (opt_.notify_commit) {
      for (const auto& e : u->committed_entries) {
        if (!e.key) continue;
        PendingRequests& table = e.type == raft::EntryType::kConfigChange ? config_changes_ : pending_;
        table.notify_committed(e.key, RequestTag{e.client_id, e.series_id});
      }
    }
  }
  // The entries are handed over only now: commit_update() reads them to
  // advance the core's processed index.
  peer_->commit_update(*u);
  if (has_task) {
    if (!u->committed_entries.empty()) {
      tracing::trace(tracing::Hop::kCommitted, cluster_id(), node_id(), u->committed_entries.back().index);
    }
    task.entries = std::move(u->committed_entries);
    size_t n = task.entries.size();
    std::lock_guard<std::mutex> g(amu_);
    tasks_.push_back(std::move(task));
    apply_backlog_ += n;
  }
  if (!u->ready_to_reads.empty()) {
    std::lock_guard<std::mutex> g(amu_);
    uint64_t applied = applied_.load();
    for (const auto& r : u->ready_to_reads) {
      auto it = rounds_.find(r.ctx.high);
      if (it == rounds_.end()) continue;
      for (uint64_t k : it->second) {
        if (r.index <= applied) {
          reads_.complete(k, RequestResultCode::kCompleted);
        } else {
          confirmed_reads_.emplace(r.index, k);
          has_task = true;
        }
      }
      rounds_.erase(it);
    }
  }
  if (has_task) wake_apply();
  return Status::OK();
}

void Node::defer(StepInbox* in, size_t taken, uint64_t ticked, size_t proposed, uint64_t proposed_bytes) {
  std::lock_guard<std::mutex> g(mu_);
  // Back to the front of the inbox, before what arrived meanwhile; the ticks
  // not yet stepped go back with them (and out of the node's time).
  const uint64_t rest_ticks = in->ticks - ticked;
  now_tick_ -= rest_ticks;
  for (uint64_t& t : inbox_.message_ticks) t += rest_ticks;
  inbox_.ticks += rest_ticks;
  if (taken < in->messages.size()) {
    uint64_t bytes = 0;
    for (size_t i = taken; i < in->messages.size(); ++i) {
      bytes += 64 + raft::entries_size_bytes(in->messages[i].entries);
      in->message_ticks[i] -= ticked;
    }
    inbox_.messages.insert(inbox_.messages.begin(), std::make_move_iterator(in->messages.begin() + long(taken)),
                           std::make_move_iterator(in->messages.end()));
    inbox_.message_ticks.insert(inbox_.message_ticks.begin(), in->message_ticks.begin() + long(taken),
                                in->message_ticks.end());
    inbox_.message_bytes += bytes;
  }
  if (proposed < in->proposals.size()) {
    inbox_.proposals.insert(inbox_.proposals.begin(), std::make_move_iterator(in->proposals.begin() + long(proposed)),
                            std::make_move_iterator(in->proposals.end()));
    inbox_.proposal_bytes += in->proposal_bytes - proposed_bytes;
  }
}

void Node::after_pass() {
  rate_limited_ = peer_->rate_limited();
  commit_ = peer_->raft().log().committed();
  quiesced_ = peer_->quiesced();
  transferring_ = peer_->raft().leader_transfer_target() != 0;
  initialized_ = !peer_->membership().addresses.empty();
  if (!idle()) wake_if_dormant();  // back into the active set
  if (deferred_) wake_step();      // what step_inputs left for the next pass
  publish_heartbeat_peers();
  std::lock_guard<std::mutex> g(mu_);
  leader_ = peer_->leader_id();
  term_ = peer_->term();
  is_leader_ = peer_->is_leader();
}

void Node::record_snapshot(const MadeSnapshot& made) {
  const raft::Snapshot& ss = made.ss;
  Status s = Status::OK();
  if (ss.index > log_->snapshot().index) {
    s = log_->save_snapshot(ss);
    if (s.ok() && ss.index > made.compaction_overhead) {
      // Keep compaction_overhead entries so followers slightly behind catch
      // up from the log rather than by snapshot.
      uint64_t to = ss.index - made.compaction_overhead;
      if (to >= log_->first_index()) {
        s = log_->compact(to);
        if (s.ok() && events) {
          EntryInfo ei{cluster_id(), node_id(), to};
          events->system([ei](ISystemEventListener& l) { l.log_compacted(ei); });
        }
        if (s.ok() && !opt_.config.disable_auto_compactions) {
          // The reference's default: the LogDB space of the dropped entries
          // is reclaimed at once, on the snapshot worker. With
          // disable_auto_compactions it waits for request_compaction.
          auto_compaction_ = true;
          wake_snapshot();
        }
      }
      if (s.ok()) removed_to_ = log_->first_index() - 1;
    }
    if (s.ok()) {
      // Keep the previous snapshot too: it may be streaming to a follower.
      std::vector<snapshot::SnapshotMeta> all;
      if (snapshot::list_snapshots(opt_.snapshot_root, &all).ok() && all.size() > 2) {
        uint64_t keep_from = all[all.size() - 2].index;
        if (snapshot::remove_snapshots_before(opt_.snapshot_root, keep_from).ok() && events) {
          SnapshotInfo si{cluster_id(), node_id(), 0, keep_from};
          events->system([si](ISystemEventListener& l) { l.snapshot_compacted(si); });
        }
      }
    }
  }
  if (!s.ok()) {
    set_failure(Status(ErrorCode::kFatal, "recording snapshot " + std::to_string(ss.index) + ": " + s.to_string()));
    return;
  }
  if (made.request_key) snapshot_reqs_.complete(made.request_key, RequestResultCode::kCompleted, {}, ss.index);
}

}  // namespace dragonboat::engine
