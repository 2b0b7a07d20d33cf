#include "rsm/applier.h"

#include <string_view>

namespace dragonboat::rsm {

using raft::Entry;
using raft::EntryType;

Status Applier::apply(const std::vector<Entry>& entries, ApplyOutput* out) {
  for (const Entry& e : entries) {
    if (e.index != applied_ + 1) {
      return Status(ErrorCode::kFatal, "apply: entry " + std::to_string(e.index) + " after " +
                                           std::to_string(applied_) + " (a gap or a repeat)");
    }
    switch (e.type) {
      case EntryType::kMetadata:
        break;
      case EntryType::kConfigChange:
        out->config_changes.push_back(e);
        break;
      case EntryType::kApplication: {
        if (e.series_id == kSeriesIDForRegister || e.series_id == kSeriesIDForUnregister) {
          Result r;
          Status s = e.series_id == kSeriesIDForRegister ? sessions_->register_session(e.client_id, &r)
                                                          : sessions_->unregister_session(e.client_id, &r);
          out->completions.push_back(
              Completion{e.key, s.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected, r});
          break;
        }
        if (e.cmd.empty() && e.series_id == kNoOpSeriesID) break;  // a leader's no-op
        Result cached;
        SessionManager::Decision d = SessionManager::Decision::kApply;
        if (e.series_id != kNoOpSeriesID) d = sessions_->check(e.client_id, e.series_id, e.responded_to, &cached);
        if (d == SessionManager::Decision::kDuplicate) {
          // Applied before: answer from the cache, do not apply again.
          out->completions.push_back(Completion{e.key, RequestResultCode::kCompleted, cached});
          break;
        }
        if (d == SessionManager::Decision::kNoSession) {
          out->completions.push_back(Completion{e.key, RequestResultCode::kRejected, {}});
          break;
        }
        if (d == SessionManager::Decision::kResponded) break;  // the client already has its answer
        Result r;
        Status s = sm_->update(std::string_view(e.cmd), &r);
        if (!s.ok()) {
          return Status(ErrorCode::kFatal, "state machine failed at entry " + std::to_string(e.index) + ": " +
                                               s.to_string());
        }
        if (e.series_id != kNoOpSeriesID) sessions_->record(e.client_id, e.series_id, r);
        out->completions.push_back(Completion{e.key, RequestResultCode::kCompleted, std::move(r)});
        break;
      }
    }
    applied_ = e.index;
  }
  return Status::OK();
}

}  // namespace dragonboat::rsm
