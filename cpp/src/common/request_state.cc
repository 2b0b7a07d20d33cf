#include "dragonboat/request_state.h"

namespace dragonboat {

const char* request_result_code_name(RequestResultCode code) {
  switch (code) {
    case RequestResultCode::kTimeout: return "timeout";
    case RequestResultCode::kCompleted: return "completed";
    case RequestResultCode::kTerminated: return "terminated";
    case RequestResultCode::kRejected: return "rejected";
    case RequestResultCode::kDropped: return "dropped";
    case RequestResultCode::kAborted: return "aborted";
  }
  return "unknown";
}

Status RequestResult::status() const {
  switch (code) {
    case RequestResultCode::kCompleted: return Status::OK();
    case RequestResultCode::kTimeout: return Status(ErrorCode::kTimeout, "request timed out");
    case RequestResultCode::kTerminated: return Status(ErrorCode::kClusterClosed, "the node was stopped");
    case RequestResultCode::kRejected: return Status(ErrorCode::kRejected, "request rejected");
    case RequestResultCode::kDropped: return Status(ErrorCode::kClusterNotReady, "request dropped (no leader?); retry");
    case RequestResultCode::kAborted: return Status(ErrorCode::kCanceled, "request aborted");
  }
  return Status(ErrorCode::kFatal, "unknown request outcome");
}

bool RequestState::complete(RequestResultCode code, Result result, uint64_t snapshot_index) {
  std::lock_guard<std::recursive_mutex> delivering(deliver_mu_);
  Callback first;
  std::vector<Callback> cbs;
  std::vector<CommittedCallback> committed_cbs;  // empty when already marked committed
  RequestResult r;
  bool committed;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (done_) return false;
    done_ = true;
    done_flag_.store(true, std::memory_order_release);
    result_.code = code;
    result_.result = std::move(result);
    result_.snapshot_index = snapshot_index;
    r = result_;
    committed = committed_ || code == RequestResultCode::kCompleted;
    first.swap(first_callback_);
    cbs.swap(callbacks_);
    committed_cbs.swap(committed_callbacks_);
  }
  cv_.notify_all();
  // The committed mark first: no waiter learns of completion before it.
  for (auto& cb : committed_cbs) cb(committed);
  if (first) first(r);
  for (auto& cb : cbs) cb(r);
  return true;
}

bool RequestState::committed() const {
  std::lock_guard<std::mutex> g(mu_);
  return committed_ || (done_ && result_.code == RequestResultCode::kCompleted);
}

bool RequestState::wait_committed(std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, wait, [this] { return committed_ || done_; });
}

void RequestState::on_committed(CommittedCallback cb) {
  if (!cb) return;  // nothing to call
  bool committed;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!committed_ && !done_) {
      committed_callbacks_.push_back(std::move(cb));
      return;
    }
    committed = committed_ || result_.code == RequestResultCode::kCompleted;
  }
  cb(committed);
}

void RequestState::set_committed() {
  std::lock_guard<std::recursive_mutex> delivering(deliver_mu_);
  std::vector<CommittedCallback> cbs;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (committed_) return;
    committed_ = true;
    cbs.swap(committed_callbacks_);  // empty once done: they ran at completion
  }
  cv_.notify_all();
  for (auto& cb : cbs) cb(true);
}

bool RequestState::done() const { return done_flag_.load(std::memory_order_acquire); }

bool RequestState::wait_for(std::chrono::milliseconds wait, RequestResult* out) const {
  std::unique_lock<std::mutex> lk(mu_);
  if (!cv_.wait_for(lk, wait, [this] { return done_; })) return false;
  *out = result_;
  return true;
}

RequestResult RequestState::wait() const {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [this] { return done_; });
  return result_;
}

void RequestState::on_complete(Callback cb) {
  if (!cb) return;  // nothing to call
  RequestResult r;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!done_) {
      if (!first_callback_) {
        first_callback_ = std::move(cb);
      } else {
        callbacks_.push_back(std::move(cb));
      }
      return;
    }
    r = result_;
  }
  cb(r);
}

}  // namespace dragonboat
