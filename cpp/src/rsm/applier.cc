#include "rsm/applier.h"

#include <forward_list>
#include <set>
#include <string_view>
#include <utility>

#include "rsm/entry_payload.h"

namespace dragonboat::rsm {

using raft::Entry;
using raft::EntryType;

Status Applier::flush(std::vector<SMEntry>* batch, std::vector<Pending>* meta, ApplyOutput* out) {
  if (batch->empty()) return Status::OK();
  Status s = sm_->update(batch);
  if (!s.ok()) {
    applied_ = batch->front().index - 1;  // nothing of the batch counts as applied
    out->completions.resize(meta->front().slot);  // nor is answered
    return Status(ErrorCode::kFatal, "state machine failed in the batch of entries " +
                                         std::to_string(batch->front().index) + ".." +
                                         std::to_string(batch->back().index) + ": " + s.to_string());
  }
  sm_applied_ = batch->back().index;
  sm_applied_term_ = meta->back().term;
  for (size_t i = 0; i < batch->size(); ++i) {
    const Pending& p = (*meta)[i];
    Result& r = (*batch)[i].result;
    if (p.series_id != kNoOpSeriesID) sessions_->record(p.client_id, p.series_id, r);
    out->completions[p.slot].result = std::move(r);  // its slot keeps completions in log order
  }
  batch->clear();
  meta->clear();
  return Status::OK();
}

Status Applier::apply(const std::vector<Entry>& entries, ApplyOutput* out) {
  std::vector<SMEntry> batch;
  std::vector<Pending> meta;
  std::set<std::pair<uint64_t, uint64_t>> in_batch;  // (client, series) awaiting the batch
  // The decompressed commands of kEncodedApplication entries: the batch's
  // views point into them until the last flush below (a list: stable
  // addresses, and nothing allocated for batches without one).
  std::forward_list<std::string> decoded;
  uint64_t next = applied_ + 1;
  for (const Entry& e : entries) {
    if (e.index != next) {
      return Status(ErrorCode::kFatal, "apply: entry " + std::to_string(e.index) + " after " +
                                           std::to_string(next - 1) + " (a gap or a repeat)");
    }
    ++next;
    if (e.index <= durable_) continue;  // already in the on-disk state machine
    switch (e.type) {
      case EntryType::kMetadata:
        break;
      case EntryType::kConfigChange:
        // Applied to the peer, and its request completed, by the step side
        // when the entry is handed out (Node::apply_config_changes).
        break;
      case EntryType::kApplication:
      case EntryType::kEncodedApplication: {
        if (e.series_id == kSeriesIDForRegister || e.series_id == kSeriesIDForUnregister) {
          // The session table changes: earlier entries must see the old one.
          Status s = flush(&batch, &meta, out);
          if (!s.ok()) return s;
          in_batch.clear();
          Result r;
          s = e.series_id == kSeriesIDForRegister ? sessions_->register_session(e.client_id, &r)
                                                  : sessions_->unregister_session(e.client_id, &r);
          out->completions.push_back(Completion{e.key, e.client_id, e.series_id,
                                                s.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected, r});
          break;
        }
        if (e.cmd.empty() && e.series_id == kNoOpSeriesID) break;  // a leader's no-op
        if (e.series_id != kNoOpSeriesID) {
          if (in_batch.count({e.client_id, e.series_id})) {
            // A retry of an entry in this very batch: apply the batch first
            // so the session check below finds its cached result.
            Status s = flush(&batch, &meta, out);
            if (!s.ok()) return s;
            in_batch.clear();
          }
          Result cached;
          auto d = sessions_->check(e.client_id, e.series_id, e.responded_to, &cached);
          if (d == SessionManager::Decision::kDuplicate) {
            out->completions.push_back(Completion{e.key, e.client_id, e.series_id, RequestResultCode::kCompleted, cached});
            break;
          }
          if (d == SessionManager::Decision::kNoSession) {
            out->completions.push_back(Completion{e.key, e.client_id, e.series_id, RequestResultCode::kRejected, {}});
            break;
          }
          if (d == SessionManager::Decision::kResponded) break;  // the client already has its answer
          in_batch.insert({e.client_id, e.series_id});
        }
        SMEntry se;
        se.index = e.index;
        se.cmd = std::string_view(e.cmd);
        if (e.type == EntryType::kEncodedApplication) {
          Status s = decode_payload(e.cmd, &decoded.emplace_front());
          if (!s.ok()) return Status(ErrorCode::kFatal, "apply: entry " + std::to_string(e.index) + ": " + s.message());
          se.cmd = std::string_view(decoded.front());
        }
        batch.push_back(std::move(se));
        meta.push_back(Pending{e.key, e.client_id, e.series_id, e.term, out->completions.size()});
        out->completions.push_back(Completion{e.key, e.client_id, e.series_id, RequestResultCode::kCompleted, {}});
        break;
      }
    }
  }
  Status s = flush(&batch, &meta, out);
  if (!s.ok()) return s;
  if (!entries.empty()) {
    applied_ = entries.back().index;
    applied_term_ = entries.back().term;
  }
  return Status::OK();
}

}  // namespace dragonboat::rsm
