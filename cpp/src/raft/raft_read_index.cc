// Linearizable reads without log writes: ReadIndex (thesis §6.4).
#include "raft/quorum.h"
#include "raft/raft.h"

namespace dragonboat::raft {

bool Raft::committed_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

void Raft::answer_read(uint64_t from, const ReadCtx& ctx, uint64_t index, bool refused) {
  if (from == id() || from == kNoNode) {
    if (refused) {
      dropped_reads.push_back(ctx);
    } else {
      ready_to_reads.push_back(ReadyToRead{index, ctx});
    }
    return;
  }
  Message r;
  r.type = MessageType::kReadIndexResp;
  r.to = from;
  r.reject = refused;
  r.log_index = index;
  r.hint = ctx.low;
  r.hint_high = ctx.high;
  send(std::move(r));
}

void Raft::handle_read_index_leader(const Message& m) {
  ReadCtx ctx{m.hint, m.hint_high};
  uint64_t from = m.from == kNoNode ? id() : m.from;
  // §6.4 step 1: until an entry of our term is committed, our commit index
  // may lag the true one; defer the read until the no-op commits.
  if (!committed_in_current_term()) {
    Message d = m;
    d.from = from;
    deferred_reads_.push_back(std::move(d));
    return;
  }
  if (voting_count() == 1 && membership_.is_voter(id())) {
    answer_read(from, ctx, log_.committed());
    return;
  }
  // Steps 2-3: remember the commit index; leadership is confirmed by one
  // heartbeat round, sent when the caller next takes an Update, so all reads
  // that arrived together share it (flush_read_round).
  read_index_.add(ctx, log_.committed(), from);
  read_round_pending_ = true;
}

void Raft::flush_read_round() {
  if (!read_round_pending_) return;
  read_round_pending_ = false;
  if (role_ != Role::kLeader || !read_index_.has_pending()) return;
  // The newest context: a quorum's ack of it confirms every earlier read.
  ReadCtx ctx = read_index_.last_ctx();
  for (const auto& [pid, pr] : progress_) send_heartbeat(pid, ctx);
}

void Raft::handle_read_index_follower(const Message& m) {
  ReadCtx ctx{m.hint, m.hint_high};
  if (role_ == Role::kWitness || leader_ == kNoNode) {
    dropped_reads.push_back(ctx);
    return;
  }
  Message f;
  f.type = MessageType::kReadIndex;
  f.to = leader_;
  f.hint = ctx.low;
  f.hint_high = ctx.high;
  send(std::move(f));
}

void Raft::release_deferred_reads() {
  if (!committed_in_current_term()) return;
  std::vector<Message> reads;
  reads.swap(deferred_reads_);
  for (const auto& m : reads) handle_read_index_leader(m);
}

void Raft::drop_pending_reads() {
  // Leadership changed: reads in flight can no longer be confirmed by us.
  // Reads forwarded by other nodes are refused back to them so their
  // clients fail fast instead of waiting for a timeout.
  for (const auto& req : read_index_.reset()) answer_read(req.from, req.ctx, 0, true);
  for (const auto& m : deferred_reads_) answer_read(m.from, ReadCtx{m.hint, m.hint_high}, 0, true);
  deferred_reads_.clear();
}

}  // namespace dragonboat::raft
