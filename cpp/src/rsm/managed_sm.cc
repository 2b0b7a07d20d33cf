#include "rsm/managed_sm.h"

#include <mutex>

#include "common/enum_util.h"

namespace dragonboat::rsm {

const char* sm_kind_name(StateMachineType k) {
  static const char* const kNames[] = {"regular", "concurrent", "on-disk"};  // from kRegular
  return enum_name(k, kNames, StateMachineType::kRegular);
}

namespace {

// What every kind does alike over its state machine `sm_`: recovery and the
// hash run between updates (excluding everything), close() closes it once.
template <typename SM>
class Guarded : public ManagedSM {
 public:
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::unique_lock<std::shared_mutex> g(mu_);
    return sm_->recover_from_snapshot(r);
  }
  bool hash(uint64_t* out) override {
    std::unique_lock<std::shared_mutex> g(mu_);  // between updates
    return !closed_ && sm_->hash(out);
  }
  void close() override {
    std::unique_lock<std::shared_mutex> g(mu_);
    if (!closed_) sm_->close();
    closed_ = true;
  }

 protected:
  explicit Guarded(SM* sm) : sm_(sm) {}
  // A read that reached the state machine after its replica stopped (it held
  // the Node while stop_cluster closed it): never call a closed one.
  // REQUIRES: mu_ held (shared or exclusive).
  bool closed() const { return closed_; }
  static Status closed_status() {
    return Status(ErrorCode::kClusterClosed, "the replica stopped: its state machine is closed");
  }
  std::shared_mutex mu_;
  SM* sm_;

 private:
  bool closed_ = false;
};

class Regular : public Guarded<IStateMachine> {
 public:
  Regular(IStateMachine* sm, std::unique_ptr<IStateMachine> owned) : Guarded(sm), owned_(std::move(owned)) {}
  ~Regular() override {
    if (owned_) close();
  }
  StateMachineType kind() const override { return StateMachineType::kRegular; }
  Status open(const StopSignal&, uint64_t* applied) override {
    *applied = 0;
    return Status::OK();
  }
  Status update(std::vector<SMEntry>* batch) override {
    std::unique_lock<std::shared_mutex> g(mu_);
    return sm_->batch_update(batch);
  }
  Status lookup(std::string_view q, std::string* a) override {
    // The regular kind promises no concurrency: reads wait for the batch.
    std::unique_lock<std::shared_mutex> g(mu_);
    if (closed()) return closed_status();
    return sm_->lookup(q, a);
  }
  Status sync() override { return Status::OK(); }
  Status prepare_snapshot(std::string* ctx) override {
    ctx->clear();
    return Status::OK();
  }
  Status save_snapshot(const std::string&, ISnapshotWriter* w) override {
    std::unique_lock<std::shared_mutex> g(mu_);
    return sm_->save_snapshot(w);
  }
  bool snapshot_blocks_updates() const override { return true; }

 private:
  std::unique_ptr<IStateMachine> owned_;  // null when borrowed
};

// The concurrent and on-disk kinds share their shape.
template <typename SM, StateMachineType K>
class Batched : public Guarded<SM> {
  using Guarded<SM>::mu_;
  using Guarded<SM>::sm_;

 public:
  explicit Batched(std::unique_ptr<SM> sm) : Guarded<SM>(sm.get()), owned_(std::move(sm)) {}
  ~Batched() override { this->close(); }
  StateMachineType kind() const override { return K; }
  Status open(const StopSignal& stop, uint64_t* applied) override {
    if constexpr (K == StateMachineType::kOnDisk) {
      return sm_->open(stop, applied);
    } else {
      *applied = 0;
      return Status::OK();
    }
  }
  Status update(std::vector<SMEntry>* batch) override {
    std::shared_lock<std::shared_mutex> g(mu_);  // lookups may run alongside
    return sm_->update(batch);
  }
  Status lookup(std::string_view q, std::string* a) override {
    std::shared_lock<std::shared_mutex> g(mu_);
    if (this->closed()) return this->closed_status();
    return sm_->lookup(q, a);
  }
  Status sync() override {
    if constexpr (K == StateMachineType::kOnDisk) {
      return sm_->sync();
    } else {
      return Status::OK();
    }
  }
  Status prepare_snapshot(std::string* ctx) override {
    std::unique_lock<std::shared_mutex> g(mu_);  // between updates
    return sm_->prepare_snapshot(ctx);
  }
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override {
    return sm_->save_snapshot(ctx, w);  // alongside updates and lookups
  }
  bool snapshot_blocks_updates() const override { return false; }

 private:
  std::unique_ptr<SM> owned_;
};

}  // namespace

std::unique_ptr<ManagedSM> ManagedSM::own(std::unique_ptr<IStateMachine> sm) {
  IStateMachine* p = sm.get();
  return std::make_unique<Regular>(p, std::move(sm));
}
std::unique_ptr<ManagedSM> ManagedSM::own(std::unique_ptr<IConcurrentStateMachine> sm) {
  return std::make_unique<Batched<IConcurrentStateMachine, StateMachineType::kConcurrent>>(std::move(sm));
}
std::unique_ptr<ManagedSM> ManagedSM::own(std::unique_ptr<IOnDiskStateMachine> sm) {
  return std::make_unique<Batched<IOnDiskStateMachine, StateMachineType::kOnDisk>>(std::move(sm));
}
std::unique_ptr<ManagedSM> ManagedSM::borrow(IStateMachine* sm) { return std::make_unique<Regular>(sm, nullptr); }

}  // namespace dragonboat::rsm
