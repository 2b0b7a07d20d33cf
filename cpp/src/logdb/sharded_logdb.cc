#include "logdb/sharded_logdb.h"

#include <algorithm>

#include "logdb/codec.h"

namespace dragonboat::logdb {
namespace {

using raft::Entry;

// The key just past every key that starts with `prefix`.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char c = static_cast<unsigned char>(prefix.back());
    if (c != 0xff) {
      prefix.back() = static_cast<char>(c + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\xff');  // unreachable for our keys (kind byte < 0xff)
}

std::string entry_key(uint64_t c, uint64_t n, uint64_t i) { return index_key(KeyKind::kEntry, c, n, i); }
std::string entries_begin(uint64_t c, uint64_t n) { return node_key(KeyKind::kEntry, c, n); }
std::string entries_end(uint64_t c, uint64_t n) { return prefix_end(node_key(KeyKind::kEntry, c, n)); }

// Entries per stored batch are bounded so a read that needs one entry
// decodes a bounded amount.
constexpr size_t kMaxBatchEntries = 512;
constexpr uint64_t kMaxBatchBytes = 256 << 10;

// Puts `ents` as batches of consecutive entries, each under the key of its
// last index.
void put_entry_batches(KVBatch* batch, uint64_t c, uint64_t n, const Entry* ents, size_t count, std::string* value) {
  size_t i = 0;
  while (i < count) {
    size_t j = i;
    uint64_t bytes = 0;
    while (j < count && j - i < kMaxBatchEntries && (j == i || bytes < kMaxBatchBytes)) bytes += ents[j++].size_bytes();
    value->clear();
    encode_entry_batch(ents + i, j - i, value);
    batch->put(entry_key(c, n, ents[j - 1].index), *value);
    i = j;
  }
}

// One effective update per node: several updates of the same node in one
// save() are folded in order (a snapshot drops the entries before it;
// later entries overwrite earlier ones from their first index), so the
// store is read at most once per node per save.
struct Folded {
  uint64_t c = 0, n = 0;
  raft::HardState state;
  raft::Snapshot snapshot;
  std::vector<Entry> entries;
  bool must_sync = false;
};

void fold(Folded* f, const NodeUpdate& u) {
  if (!u.snapshot.empty()) {
    f->snapshot = u.snapshot;
    f->entries.clear();
  }
  if (!u.entries.empty()) {
    uint64_t first = u.entries.front().index;
    while (!f->entries.empty() && f->entries.back().index >= first) f->entries.pop_back();
    f->entries.insert(f->entries.end(), u.entries.begin(), u.entries.end());
  }
  if (!u.state.empty()) f->state = u.state;
  f->must_sync = f->must_sync || u.must_sync;
}

uint64_t key_index(const std::string& key) {
  KeyKind k;
  uint64_t c, n, i;
  return parse_key(key.data(), key.size(), &k, &c, &n, &i) ? i : 0;
}

}  // namespace

ShardedLogDB::ShardedLogDB(std::string name, std::vector<std::unique_ptr<KV>> shards)
    : name_(std::move(name)) {
  for (auto& kv : shards) {
    auto s = std::make_unique<Shard>();
    s->kv = std::move(kv);
    shards_.push_back(std::move(s));
  }
}

Status ShardedLogDB::check_writable() const {
  if (fatal_.load()) {
    return Status(ErrorCode::kFatal, "logdb: an earlier write or sync failed; no further writes");
  }
  return Status::OK();
}

Status ShardedLogDB::commit(Shard& s, KVBatch* batch, bool sync) {
  Status st = s.kv->write(batch, sync);
  if (!st.ok()) {
    // After a failed fsync the kernel may have dropped the dirty pages:
    // retrying could report success for data that is gone. Stop for good.
    fatal_.store(true);
    return Status(ErrorCode::kFatal, "logdb: write to " + s.kv->describe() + " failed: " + st.message());
  }
  return st;
}

Status ShardedLogDB::stored_last_index(Shard& s, uint64_t c, uint64_t n, uint64_t* last) {
  auto it = s.last_index.find({c, n});
  if (it != s.last_index.end()) {
    *last = it->second;
    return Status::OK();
  }
  std::string key;
  bool found = false;
  Status st = s.kv->last_key(entries_begin(c, n), entries_end(c, n), &key, &found);
  if (!st.ok()) return st;
  *last = found ? key_index(key) : 0;
  s.last_index[{c, n}] = *last;
  return Status::OK();
}

Status ShardedLogDB::first_index(Shard& s, uint64_t c, uint64_t n, uint64_t* first) {
  // The first entry of the first stored batch.
  *first = 0;
  Status decoded;
  Status st = s.kv->scan(entries_begin(c, n), entries_end(c, n),
                         [&](const char* k, size_t ks, const char* v, size_t vs) {
                           KeyKind kind;
                           uint64_t cc, nn, i;
                           if (!parse_key(k, ks, &kind, &cc, &nn, &i)) return false;
                           std::vector<Entry> b;
                           decoded = decode_entry_batch(v, vs, i, &b);
                           if (decoded.ok()) *first = b.front().index;
                           return false;
                         });
  if (!st.ok()) return st;
  if (!decoded.ok()) return Status(decoded.code(), decoded.message() + " in " + s.kv->describe());
  return Status::OK();
}

void ShardedLogDB::remove_all_entries(KVBatch* b, uint64_t c, uint64_t n) {
  b->del_range(entries_begin(c, n), entries_end(c, n));
}

Status ShardedLogDB::save(const std::vector<NodeUpdate>& updates) {
  Status st = check_writable();
  if (!st.ok()) return st;
  // Group by shard and fold by node, keeping the callers' order.
  std::map<uint64_t, std::vector<Folded>> by_shard;
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, size_t>> where;  // node -> (shard, slot)
  for (const auto& u : updates) {
    uint64_t idx = u.cluster_id % shards_.size();
    auto [it, added] = where.try_emplace({u.cluster_id, u.node_id}, idx, by_shard[idx].size());
    if (added) {
      by_shard[idx].emplace_back();
      by_shard[idx].back().c = u.cluster_id;
      by_shard[idx].back().n = u.node_id;
    }
    fold(&by_shard[idx][it->second.second], u);
  }
  for (auto& [idx, group] : by_shard) {
    Shard& s = *shards_[idx];
    std::lock_guard<std::mutex> g(s.mu);
    auto batch = s.kv->new_batch();
    std::vector<std::pair<std::pair<uint64_t, uint64_t>, uint64_t>> new_last;
    std::string value;
    bool sync = false;
    for (const Folded& u : group) {
      const uint64_t c = u.c, n = u.n;
      sync = sync || u.must_sync;
      uint64_t last = 0;
      st = stored_last_index(s, c, n, &last);
      if (!st.ok()) return st;
      if (!u.snapshot.empty()) {
        // An installed snapshot replaces the log: entries restart after it.
        remove_all_entries(batch.get(), c, n);
        batch->put(index_key(KeyKind::kSnapshot, c, n, u.snapshot.index), encode_snapshot(u.snapshot));
        last = 0;
      }
      if (!u.entries.empty()) {
        uint64_t first = u.entries.front().index;
        if (last >= first) {
          // Stored entries from `first` on are overwritten (§5.3): the batch
          // holding first-1 and first keeps its part before `first` under a
          // new key; every batch ending at or after `first` goes.
          std::vector<Entry> straddler;
          Status decoded;
          st = s.kv->scan(entry_key(c, n, first), entries_end(c, n),
                          [&](const char* k, size_t ks, const char* v, size_t vs) {
                            KeyKind kind;
                            uint64_t cc, nn, i;
                            if (parse_key(k, ks, &kind, &cc, &nn, &i)) decoded = decode_entry_batch(v, vs, i, &straddler);
                            return false;
                          });
          if (!st.ok()) return st;
          if (!decoded.ok()) return Status(decoded.code(), decoded.message() + " in " + s.kv->describe());
          batch->del_range(entry_key(c, n, first), entry_key(c, n, last + 1));
          size_t keep = 0;
          while (keep < straddler.size() && straddler[keep].index < first) ++keep;
          if (keep > 0) put_entry_batches(batch.get(), c, n, straddler.data(), keep, &value);
        }
        put_entry_batches(batch.get(), c, n, u.entries.data(), u.entries.size(), &value);
        last = u.entries.back().index;
      }
      if (!u.state.empty()) batch->put(node_key(KeyKind::kHardState, c, n), encode_hard_state(u.state));
      new_last.push_back({{c, n}, last});
    }
    st = commit(s, batch.get(), sync);
    if (!st.ok()) {
      s.last_index.clear();  // unknown now; never used again (fatal)
      return st;
    }
    for (const auto& [k, v] : new_last) s.last_index[k] = v;
  }
  return Status::OK();
}

Status ShardedLogDB::read_raft_state(uint64_t c, uint64_t n, RaftState* out) {
  Shard& s = shard(c);
  std::lock_guard<std::mutex> g(s.mu);
  *out = RaftState{};
  std::string v;
  bool found = false;
  Status st = s.kv->get(node_key(KeyKind::kHardState, c, n), &v, &found);
  if (!st.ok()) return st;
  if (found) {
    st = decode_hard_state(v, &out->state);
    if (!st.ok()) return Status(st.code(), st.message() + " in " + s.kv->describe());
  }
  st = first_index(s, c, n, &out->first_index);
  if (!st.ok()) return st;
  st = stored_last_index(s, c, n, &out->last_index);
  if (!st.ok()) return st;
  raft::Snapshot ss;
  bool has_snapshot = false;
  std::string key;
  st = s.kv->last_key(index_key(KeyKind::kSnapshot, c, n, 0), prefix_end(node_key(KeyKind::kSnapshot, c, n)),
                      &key, &has_snapshot);
  if (!st.ok()) return st;
  if (!found && out->last_index == 0 && !has_snapshot) {
    return Status(ErrorCode::kUnavailable, "no raft state stored for this node");
  }
  return Status::OK();
}

Status ShardedLogDB::entries(uint64_t c, uint64_t n, uint64_t low, uint64_t high, uint64_t max_bytes,
                             std::vector<Entry>* out) {
  if (low >= high) return Status::OK();
  Shard& s = shard(c);
  uint64_t expect = low;
  uint64_t size = 0;
  Status decode_status;
  size_t before = out->size();
  bool full = false;  // stopped by the byte budget
  std::vector<Entry> b;
  // The first batch ending at or after `low` holds it (unless compacted).
  Status st = s.kv->scan(entry_key(c, n, low), entries_end(c, n),
                         [&](const char* k, size_t ks, const char* v, size_t vs) {
                           KeyKind kind;
                           uint64_t cc, nn, i;
                           if (!parse_key(k, ks, &kind, &cc, &nn, &i)) return false;
                           b.clear();
                           decode_status = decode_entry_batch(v, vs, i, &b);
                           if (!decode_status.ok()) return false;
                           for (Entry& e : b) {
                             if (e.index < expect) continue;  // before `low`
                             if (e.index != expect || e.index >= high) return false;  // a hole, or done
                             size += e.size_bytes();
                             if (out->size() > before && size > max_bytes) {
                               full = true;
                               return false;
                             }
                             out->push_back(std::move(e));
                             ++expect;
                           }
                           return expect < high;
                         });
  if (!st.ok()) return st;
  if (!decode_status.ok()) {
    return Status(ErrorCode::kCorrupted, decode_status.message() + " (reading from index " + std::to_string(expect) +
                                             ") in " + s.kv->describe());
  }
  if (out->size() == before) {
    uint64_t first = 0;
    {
      std::lock_guard<std::mutex> g(s.mu);
      st = first_index(s, c, n, &first);
    }
    if (!st.ok()) return st;
    if (first == 0 || low > first) return Status(ErrorCode::kUnavailable, "entries not available");
    return Status(ErrorCode::kCompacted, "entries compacted");
  }
  if (expect < high && !full) {
    // Stopped before `high` without hitting the byte budget: a hole.
    return Status(ErrorCode::kUnavailable, "entry " + std::to_string(expect) + " missing");
  }
  return Status::OK();
}

template <typename Write>
Status ShardedLogDB::write_locked(uint64_t c, Write write) {
  Status st = check_writable();
  if (!st.ok()) return st;
  Shard& s = shard(c);
  std::lock_guard<std::mutex> g(s.mu);
  auto batch = s.kv->new_batch();
  return write(s, batch.get());
}

Status ShardedLogDB::save_bootstrap(uint64_t c, uint64_t n, const Bootstrap& b) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    batch->put(node_key(KeyKind::kBootstrap, c, n), encode_bootstrap(b));
    return commit(s, batch);
  });
}

Status ShardedLogDB::get_bootstrap(uint64_t c, uint64_t n, Bootstrap* out) {
  Shard& s = shard(c);
  std::string v;
  bool found = false;
  Status st = s.kv->get(node_key(KeyKind::kBootstrap, c, n), &v, &found);
  if (!st.ok()) return st;
  if (found) return decode_bootstrap(v, out);
  st = s.kv->get(node_key(KeyKind::kRemoved, c, n), &v, &found);
  if (!st.ok()) return st;
  if (found) {
    return Status(ErrorCode::kNodeRemoved, "node " + std::to_string(n) + " of cluster " + std::to_string(c) +
                                               " was removed (remove_data): its ID cannot be started again");
  }
  return Status(ErrorCode::kClusterNotBootstrapped, "no bootstrap record");
}

Status ShardedLogDB::save_snapshot_record(uint64_t c, uint64_t n, const raft::Snapshot& ss) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    if (ss.empty()) return Status(ErrorCode::kInvalidOperation, "snapshot record: empty snapshot");
    batch->put(index_key(KeyKind::kSnapshot, c, n, ss.index), encode_snapshot(ss));
    return commit(s, batch);
  });
}

Status ShardedLogDB::get_snapshot(uint64_t c, uint64_t n, raft::Snapshot* out) {
  Shard& s = shard(c);
  std::string key;
  bool found = false;
  Status st = s.kv->last_key(index_key(KeyKind::kSnapshot, c, n, 0),
                             prefix_end(node_key(KeyKind::kSnapshot, c, n)), &key, &found);
  if (!st.ok()) return st;
  if (!found) return Status(ErrorCode::kNoSnapshot, "no snapshot record");
  std::string v;
  st = s.kv->get(key, &v, &found);
  if (!st.ok()) return st;
  if (!found) return Status(ErrorCode::kNoSnapshot, "no snapshot record");
  return decode_snapshot(v, out);
}

Status ShardedLogDB::remove_snapshots_before(uint64_t c, uint64_t n, uint64_t index) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    batch->del_range(index_key(KeyKind::kSnapshot, c, n, 0), index_key(KeyKind::kSnapshot, c, n, index));
    return commit(s, batch);
  });
}

Status ShardedLogDB::remove_entries_to(uint64_t c, uint64_t n, uint64_t index) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    batch->del_range(entry_key(c, n, 0), entry_key(c, n, index + 1));
    // The batch holding index+1 may start at or below `index`: it keeps only
    // its entries after `index`, under the same key (its last index).
    std::vector<Entry> straddler;
    uint64_t straddler_key = 0;
    Status decoded;
    Status st = s.kv->scan(entry_key(c, n, index + 1), entries_end(c, n),
                           [&](const char* k, size_t ks, const char* v, size_t vs) {
                             KeyKind kind;
                             uint64_t cc, nn, i;
                             if (parse_key(k, ks, &kind, &cc, &nn, &i)) {
                               straddler_key = i;
                               decoded = decode_entry_batch(v, vs, i, &straddler);
                             }
                             return false;
                           });
    if (!st.ok()) return st;
    if (!decoded.ok()) return Status(decoded.code(), decoded.message() + " in " + s.kv->describe());
    if (!straddler.empty() && straddler.front().index <= index) {
      size_t drop = 0;
      while (drop < straddler.size() && straddler[drop].index <= index) ++drop;
      std::string value;
      encode_entry_batch(straddler.data() + drop, straddler.size() - drop, &value);
      batch->put(entry_key(c, n, straddler_key), value);
    }
    st = commit(s, batch);
    if (st.ok()) {
      auto it = s.last_index.find({c, n});
      if (it != s.last_index.end() && it->second <= index) it->second = 0;
    }
    return st;
  });
}

Status ShardedLogDB::compact(uint64_t c, uint64_t n, uint64_t index) {
  Status st = check_writable();
  if (!st.ok()) return st;
  return shard(c).kv->compact_range(entry_key(c, n, 0), entry_key(c, n, index + 1));
}

Status ShardedLogDB::remove_node_data(uint64_t c, uint64_t n) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    for (KeyKind k : {KeyKind::kEntry, KeyKind::kHardState, KeyKind::kSnapshot, KeyKind::kBootstrap}) {
      std::string p = node_key(k, c, n);
      batch->del_range(p, prefix_end(p));
    }
    batch->put(node_key(KeyKind::kRemoved, c, n), "");  // the tombstone: never start this node again
    Status st = commit(s, batch);
    if (st.ok()) s.last_index.erase({c, n});
    return st;
  });
}

Status ShardedLogDB::import_snapshot(uint64_t n, uint64_t c, const raft::Snapshot& ss) {
  return write_locked(c, [&](Shard& s, KVBatch* batch) {
    if (ss.empty()) return Status(ErrorCode::kInvalidOperation, "import: empty snapshot");
    Bootstrap b;
    Status bs = get_bootstrap(c, n, &b);
    if (!bs.ok() && bs.code() != ErrorCode::kClusterNotBootstrapped && bs.code() != ErrorCode::kNodeRemoved) return bs;
    b.addresses = ss.membership.addresses;
    // An operator importing a snapshot for a removed node brings it back.
    batch->del(node_key(KeyKind::kRemoved, c, n));
    b.join = false;
    remove_all_entries(batch, c, n);
    std::string sp = node_key(KeyKind::kSnapshot, c, n);
    batch->del_range(sp, prefix_end(sp));
    batch->put(index_key(KeyKind::kSnapshot, c, n, ss.index), encode_snapshot(ss));
    batch->put(node_key(KeyKind::kHardState, c, n), encode_hard_state(raft::HardState{ss.term, 0, ss.index}));
    batch->put(node_key(KeyKind::kBootstrap, c, n), encode_bootstrap(b));
    Status st = commit(s, batch);
    if (st.ok()) s.last_index[{c, n}] = 0;
    return st;
  });
}

Status ShardedLogDB::list_nodes(std::vector<NodeInfo>* out) {
  out->clear();
  std::string begin(1, static_cast<char>(KeyKind::kBootstrap));
  std::string end = prefix_end(begin);
  for (auto& s : shards_) {
    Status st = s->kv->scan(begin, end, [&](const char* k, size_t ks, const char*, size_t) {
      KeyKind kind;
      uint64_t c, n, i;
      if (parse_key(k, ks, &kind, &c, &n, &i)) out->push_back(NodeInfo{c, n});
      return true;
    });
    if (!st.ok()) return st;
  }
  std::sort(out->begin(), out->end(), [](const NodeInfo& a, const NodeInfo& b) {
    return a.cluster_id != b.cluster_id ? a.cluster_id < b.cluster_id : a.node_id < b.node_id;
  });
  return Status::OK();
}

std::unique_ptr<LogDB> new_mem_logdb(uint64_t shards) {
  std::vector<std::unique_ptr<KV>> kvs;
  for (uint64_t i = 0; i < std::max<uint64_t>(1, shards); ++i) kvs.push_back(new_mem_kv("memory shard " + std::to_string(i)));
  return std::make_unique<ShardedLogDB>("memory", std::move(kvs));
}

}  // namespace dragonboat::logdb
