#include "rsm/session.h"

#include "common/bytes.h"

namespace dragonboat::rsm {
namespace {

// The session table: [u8 version] then u64 fields and u64-length-prefixed
// result data, little-endian (common/bytes.h).
constexpr uint8_t kFormatV1 = 1;

}  // namespace

void SessionManager::touch(std::list<Session>::iterator it) { lru_.splice(lru_.begin(), lru_, it); }

SessionManager::Decision SessionManager::check(uint64_t client_id, uint64_t series_id, uint64_t responded_to,
                                               Result* cached) {
  auto f = index_.find(client_id);
  if (f == index_.end()) return Decision::kNoSession;
  Session& s = *f->second;
  touch(f->second);
  // The client has seen every result up to responded_to: forget them.
  if (responded_to > s.responded_up_to) {
    s.responded_up_to = responded_to;
    s.history.erase(s.history.begin(), s.history.upper_bound(responded_to));
  }
  if (series_id <= s.responded_up_to) return Decision::kResponded;
  auto h = s.history.find(series_id);
  if (h != s.history.end()) {
    *cached = h->second;
    return Decision::kDuplicate;
  }
  return Decision::kApply;
}

void SessionManager::record(uint64_t client_id, uint64_t series_id, const Result& result) {
  auto f = index_.find(client_id);
  if (f == index_.end()) return;
  f->second->history[series_id] = result;
}

Status SessionManager::register_session(uint64_t client_id, Result* result) {
  *result = Result{};
  if (index_.count(client_id)) return Status(ErrorCode::kRejected, "session already registered");
  lru_.push_front(Session{client_id, 0, {}});
  index_[client_id] = lru_.begin();
  while (lru_.size() > max_sessions_) {
    // Evict the least recently used session; every replica evicts the same.
    index_.erase(lru_.back().client_id);
    lru_.pop_back();
  }
  result->value = client_id;
  return Status::OK();
}

Status SessionManager::unregister_session(uint64_t client_id, Result* result) {
  *result = Result{};
  auto f = index_.find(client_id);
  if (f == index_.end()) return Status(ErrorCode::kRejected, "session not registered");
  lru_.erase(f->second);
  index_.erase(f);
  result->value = client_id;
  return Status::OK();
}

std::string SessionManager::encode() const {
  std::string out;
  bytes::append_u8(&out, kFormatV1);
  bytes::append_u64(&out, lru_.size());
  // Least recently used first, so decoding by push_front restores the order.
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    bytes::append_u64(&out, it->client_id);
    bytes::append_u64(&out, it->responded_up_to);
    bytes::append_u64(&out, it->history.size());
    for (const auto& [series, r] : it->history) {
      bytes::append_u64(&out, series);
      bytes::append_u64(&out, r.value);
      bytes::append_u64_prefixed(&out, r.data);
    }
  }
  return out;
}

Status SessionManager::decode(const std::string& data) {
  auto bad = [](const char* why) { return Status(ErrorCode::kCorrupted, std::string("session table: ") + why); };
  bytes::Reader in(data);
  uint8_t ver = 0;
  uint64_t n = 0;
  if (!in.u8(&ver) || ver != kFormatV1) return bad("unknown format");
  if (!in.u64(&n) || n > in.remaining() / 24) return bad("bad session count");
  std::list<Session> lru;
  std::unordered_map<uint64_t, std::list<Session>::iterator> index;
  for (uint64_t i = 0; i < n; ++i) {
    Session s;
    uint64_t h = 0;
    if (!in.u64(&s.client_id) || !in.u64(&s.responded_up_to) || !in.u64(&h) || h > in.remaining() / 24) {
      return bad("truncated session");
    }
    for (uint64_t j = 0; j < h; ++j) {
      uint64_t series = 0;
      Result r;
      if (!in.u64(&series) || !in.u64(&r.value) || !in.u64_prefixed(&r.data)) return bad("truncated result");
      s.history[series] = std::move(r);
    }
    if (index.count(s.client_id)) return bad("duplicate client id");
    lru.push_front(std::move(s));
    index[lru.front().client_id] = lru.begin();
  }
  if (in.remaining() != 0) return bad("trailing bytes");
  lru_.swap(lru);
  index_.swap(index);
  return Status::OK();
}

}  // namespace dragonboat::rsm
