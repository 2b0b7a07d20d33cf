#include "sim/storage.h"

#include "logdb/node_log.h"

namespace dragonboat::sim {

Status MemoryStorage::persist(const raft::Update& u) {
  if (!u.snapshot.empty() && u.snapshot.index > log_.snapshot().index) log_.apply_snapshot(u.snapshot);
  log_.append(u.entries_to_save);
  if (!u.state.empty()) log_.set_hard_state(u.state);
  if (u.must_sync) synced_commit_ = log_.hard_state().commit;
  return Status::OK();
}

Status MemoryStorage::crash() {
  raft::HardState hs = log_.hard_state();
  if (hs.commit > synced_commit_) {
    hs.commit = synced_commit_;  // the unsynced commit index did not survive
    log_.set_hard_state(hs);
  }
  return Status::OK();
}

Status MemoryStorage::save_snapshot(const raft::Snapshot& ss) {
  log_.save_snapshot(ss);
  return Status::OK();
}

namespace {

class LogDBStorage : public Storage {
 public:
  LogDBStorage(logdb::LogDB* db, uint64_t c, uint64_t n) : db_(db), c_(c), n_(n) {
    Status s = logdb::NodeLog::open(db_, c_, n_, 4096, &log_);
    if (!s.ok()) failed_ = s;
  }
  const raft::LogReader& reader() const override { return *log_; }
  Status persist(const raft::Update& u) override {
    if (!failed_.ok()) return failed_;
    logdb::NodeUpdate nu;
    nu.cluster_id = c_;
    nu.node_id = n_;
    nu.state = u.state;
    nu.entries = u.entries_to_save;
    if (!u.snapshot.empty() && u.snapshot.index > log_->snapshot().index) nu.snapshot = u.snapshot;
    return log_->save(nu);
  }
  Status save_snapshot(const raft::Snapshot& ss) override { return log_->save_snapshot(ss); }
  Status compact(uint64_t index) override { return log_->compact(index); }
  Status crash() override {
    log_.reset();
    return logdb::NodeLog::open(db_, c_, n_, 4096, &log_);
  }

 private:
  logdb::LogDB* db_;
  uint64_t c_, n_;
  std::unique_ptr<logdb::NodeLog> log_;
  Status failed_;
};

}  // namespace

std::unique_ptr<Storage> new_memory_storage() { return std::make_unique<MemoryStorage>(); }

std::unique_ptr<Storage> new_logdb_storage(logdb::LogDB* db, uint64_t c, uint64_t n) {
  return std::make_unique<LogDBStorage>(db, c, n);
}

}  // namespace dragonboat::sim
