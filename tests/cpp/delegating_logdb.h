// delegating_logdb.h — an application-style raftio::ILogDB for tests: every
// call goes to an inner LogDB (the in-memory one unless given); a test
// derives from it and overrides what it watches or changes (a stall, a
// count of saves). Thread-safety: as the inner LogDB.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dragonboat/raftio.h"
#include "logdb/logdb.h"

namespace dragonboat::test {

class DelegatingLogDB : public raftio::ILogDB {
 public:
  explicit DelegatingLogDB(std::unique_ptr<raftio::ILogDB> inner = logdb::new_mem_logdb(1)) : in(std::move(inner)) {}

  std::string name() const override { return in->name(); }
  uint64_t shard_count() const override { return in->shard_count(); }
  bool busy(uint64_t c) const override { return in->busy(c); }
  Status save(const std::vector<raftio::NodeUpdate>& u) override { return in->save(u); }
  Status read_raft_state(uint64_t c, uint64_t n, raftio::RaftState* o) override { return in->read_raft_state(c, n, o); }
  Status entries(uint64_t c, uint64_t n, uint64_t lo, uint64_t hi, uint64_t mb, std::vector<raftpb::Entry>* o) override {
    return in->entries(c, n, lo, hi, mb, o);
  }
  Status save_bootstrap(uint64_t c, uint64_t n, const raftio::Bootstrap& b) override {
    return in->save_bootstrap(c, n, b);
  }
  Status get_bootstrap(uint64_t c, uint64_t n, raftio::Bootstrap* o) override { return in->get_bootstrap(c, n, o); }
  Status save_snapshot_record(uint64_t c, uint64_t n, const raftpb::Snapshot& ss) override {
    return in->save_snapshot_record(c, n, ss);
  }
  Status get_snapshot(uint64_t c, uint64_t n, raftpb::Snapshot* o) override { return in->get_snapshot(c, n, o); }
  Status remove_snapshots_before(uint64_t c, uint64_t n, uint64_t i) override {
    return in->remove_snapshots_before(c, n, i);
  }
  Status remove_entries_to(uint64_t c, uint64_t n, uint64_t i) override { return in->remove_entries_to(c, n, i); }
  Status compact(uint64_t c, uint64_t n, uint64_t i) override { return in->compact(c, n, i); }
  Status remove_node_data(uint64_t c, uint64_t n) override { return in->remove_node_data(c, n); }
  Status import_snapshot(uint64_t n, uint64_t c, const raftpb::Snapshot& ss) override {
    return in->import_snapshot(n, c, ss);
  }
  Status list_nodes(std::vector<raftio::NodeInfo>* o) override { return in->list_nodes(o); }

  std::unique_ptr<raftio::ILogDB> in;
};

}  // namespace dragonboat::test
