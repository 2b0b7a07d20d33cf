#include "logdb/node_log.h"

#include <algorithm>

namespace dragonboat::logdb {

Status NodeLog::open(LogDB* db, uint64_t c, uint64_t n, uint64_t cache_bytes, std::unique_ptr<NodeLog>* out) {
  std::unique_ptr<NodeLog> l(new NodeLog(db, c, n, cache_bytes));
  RaftState rs;
  Status s = db->read_raft_state(c, n, &rs);
  if (!s.ok() && s.code() != ErrorCode::kUnavailable) return s;
  l->state_ = rs.state;
  s = db->get_snapshot(c, n, &l->snapshot_);
  if (!s.ok() && s.code() != ErrorCode::kNoSnapshot) return s;
  uint64_t ss_index = l->snapshot_.index;
  if (rs.last_index == 0 || rs.last_index <= ss_index) {
    // No entry after the snapshot: the log restarts after it.
    l->marker_index_ = ss_index;
    l->marker_term_ = l->snapshot_.term;
  } else if (rs.first_index <= ss_index + 1) {
    if (rs.first_index == ss_index + 1) {
      l->marker_index_ = ss_index;
      l->marker_term_ = l->snapshot_.term;
    } else {
      // Entries kept from before the snapshot: the oldest one becomes the
      // marker, since the term of the entry before it is not stored.
      std::vector<raft::Entry> first;
      s = db->entries(c, n, rs.first_index, rs.first_index + 1, 0, &first);
      if (!s.ok()) return s;
      l->marker_index_ = rs.first_index;
      l->marker_term_ = first[0].term;
    }
  } else {
    return Status(ErrorCode::kCorrupted, "node log of cluster " + std::to_string(c) + " node " +
                                             std::to_string(n) + " has a gap after its snapshot");
  }
  l->last_index_ = std::max(rs.last_index, l->marker_index_);
  *out = std::move(l);
  return Status::OK();
}

Status NodeLog::term(uint64_t index, uint64_t* term) const {
  if (index < marker_index_) return Status(ErrorCode::kCompacted, "term: compacted");
  if (index == marker_index_) {
    *term = marker_term_;
    return Status::OK();
  }
  if (index > last_index_) return Status(ErrorCode::kUnavailable, "term: beyond last");
  if (!cache_.empty() && index >= cache_.front().index) {
    *term = cache_[index - cache_.front().index].term;
    return Status::OK();
  }
  std::vector<raft::Entry> one;
  ++db_reads_;
  Status s = db_->entries(cluster_id_, node_id_, index, index + 1, 0, &one);
  if (!s.ok()) return s;
  *term = one[0].term;
  return Status::OK();
}

Status NodeLog::entries(uint64_t low, uint64_t high, uint64_t max_bytes, std::vector<raft::Entry>* out) const {
  if (low <= marker_index_) return Status(ErrorCode::kCompacted, "entries: compacted");
  if (high > last_index_ + 1) return Status(ErrorCode::kUnavailable, "entries: beyond last");
  if (low >= high) return Status::OK();
  uint64_t cache_first = cache_.empty() ? last_index_ + 1 : cache_.front().index;
  size_t before = out->size();
  uint64_t size = 0;
  if (low < cache_first) {
    ++db_reads_;
    Status s = db_->entries(cluster_id_, node_id_, low, std::min(high, cache_first), max_bytes, out);
    if (!s.ok()) return s;
    for (size_t i = before; i < out->size(); ++i) size += (*out)[i].size_bytes();
    // Stopped by the byte budget before reaching the cache.
    if (out->size() == before || out->back().index + 1 < std::min(high, cache_first)) return Status::OK();
  }
  for (uint64_t i = std::max(low, cache_first); i < high; ++i) {
    const raft::Entry& e = cache_[i - cache_first];
    size += e.size_bytes();
    if (out->size() > before && size > max_bytes) break;
    out->push_back(e);
  }
  return Status::OK();
}

void NodeLog::cache_make_room(uint64_t first) {
  // Drop an overwritten suffix, or the whole cache if the new entries do not
  // continue it.
  while (!cache_.empty() && cache_.back().index >= first) {
    cached_bytes_ -= cache_.back().size_bytes();
    cache_.pop_back();
  }
  if (!cache_.empty() && cache_.back().index + 1 != first) {
    cache_.clear();
    cached_bytes_ = 0;
  }
}

void NodeLog::cache_append(const std::vector<raft::Entry>& ents) {
  if (ents.empty()) return;
  cache_make_room(ents.front().index);
  for (const auto& e : ents) {
    cache_.push_back(e);
    cached_bytes_ += e.size_bytes();
  }
  trim_cache();
}

void NodeLog::cache_append(std::vector<raft::Entry>&& ents) {
  if (ents.empty()) return;
  cache_make_room(ents.front().index);
  for (auto& e : ents) {
    cached_bytes_ += e.size_bytes();
    cache_.push_back(std::move(e));
  }
  trim_cache();
}

void NodeLog::trim_cache() {
  // Keep at least the newest entry; bound the rest by bytes.
  while (cache_.size() > 1 && cached_bytes_ > cache_bytes_) {
    cached_bytes_ -= cache_.front().size_bytes();
    cache_.pop_front();
  }
}

void NodeLog::on_saved(const NodeUpdate& u) {
  if (!u.snapshot.empty()) {
    snapshot_ = u.snapshot;
    marker_index_ = u.snapshot.index;
    marker_term_ = u.snapshot.term;
    last_index_ = marker_index_;
    cache_.clear();
    cached_bytes_ = 0;
  }
  if (!u.entries.empty()) {
    cache_append(u.entries);
    last_index_ = u.entries.back().index;
  }
  if (!u.state.empty()) state_ = u.state;
}

void NodeLog::on_saved(NodeUpdate&& u) {
  if (!u.snapshot.empty()) {
    snapshot_ = std::move(u.snapshot);
    marker_index_ = snapshot_.index;
    marker_term_ = snapshot_.term;
    last_index_ = marker_index_;
    cache_.clear();
    cached_bytes_ = 0;
  }
  if (!u.entries.empty()) {
    last_index_ = u.entries.back().index;
    cache_append(std::move(u.entries));
  }
  if (!u.state.empty()) state_ = u.state;
}

Status NodeLog::save(const NodeUpdate& u) {
  Status s = db_->save({u});
  if (!s.ok()) return s;
  on_saved(u);
  return Status::OK();
}

Status NodeLog::save_snapshot(const raft::Snapshot& ss) {
  if (ss.index <= snapshot_.index) return Status::OK();
  Status s = db_->save_snapshot_record(cluster_id_, node_id_, ss);
  if (!s.ok()) return s;
  snapshot_ = ss;
  return Status::OK();
}

Status NodeLog::compact(uint64_t index) {
  if (index <= marker_index_) return Status(ErrorCode::kCompacted, "compact: already compacted");
  if (index > last_index_) return Status(ErrorCode::kUnavailable, "compact: beyond last");
  if (snapshot_.index < index) return Status(ErrorCode::kInvalidOperation, "compact: no snapshot");
  uint64_t t = 0;
  Status s = term(index, &t);
  if (!s.ok()) return s;
  s = db_->remove_entries_to(cluster_id_, node_id_, index);
  if (!s.ok()) return s;
  marker_index_ = index;
  marker_term_ = t;
  while (!cache_.empty() && cache_.front().index <= index) {
    cached_bytes_ -= cache_.front().size_bytes();
    cache_.pop_front();
  }
  return Status::OK();
}

}  // namespace dragonboat::logdb
