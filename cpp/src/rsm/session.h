// rsm/session.h — client sessions for at-most-once proposals (Ongaro's
// thesis §6.3; the reference's client.Session semantics).
//
// A client registers a session through the log, then tags each proposal with
// (client_id, series_id, responded_to). Every replica applies the same log in
// the same order, so every replica's SessionManager makes the same decision:
//  - a proposal whose series was already applied returns the cached result
//    and is NOT applied again (a retry after a timeout is safe);
//  - a series at or below responded_to was acknowledged by the client and is
//    ignored; cached results up to responded_to are dropped (bounded memory);
//  - a proposal for an unknown session is rejected.
// The table holds at most max_sessions sessions; the least recently used is
// evicted on registration (deterministic: the LRU order follows the log).
// The table is part of every snapshot (encode/decode keep the LRU order).
// Thread-safety: not thread-safe; owned by the replica's apply path.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <unordered_map>

#include "dragonboat/request_state.h"
#include "dragonboat/status.h"

namespace dragonboat::rsm {

// Series IDs with a special meaning (as in the reference).
constexpr uint64_t kNoOpSeriesID = 0;                     // no session: never deduplicated
constexpr uint64_t kSeriesIDForRegister = UINT64_MAX - 1;
constexpr uint64_t kSeriesIDForUnregister = UINT64_MAX;

// What applying a proposal produced (the reference's sm.Result).
using Result = dragonboat::Result;

class SessionManager {
 public:
  explicit SessionManager(size_t max_sessions = 4096) : max_sessions_(max_sessions) {}

  enum class Decision {
    kApply,      // apply it, then record() the result
    kDuplicate,  // already applied: *cached holds its result, do not apply
    kResponded,  // the client already acknowledged this series: ignore
    kNoSession,  // unknown session: reject the proposal
  };

  // Decides what to do with a proposal of a registered session (series_id is
  // neither kNoOpSeriesID nor a register/unregister ID). Also drops cached
  // results up to responded_to and refreshes the session's LRU position.
  Decision check(uint64_t client_id, uint64_t series_id, uint64_t responded_to, Result* cached);
  // Caches the result of an applied proposal.
  void record(uint64_t client_id, uint64_t series_id, const Result& result);

  // Register / unregister entries. Result value = client_id on success;
  // kRejected when already registered / not registered.
  Status register_session(uint64_t client_id, Result* result);
  Status unregister_session(uint64_t client_id, Result* result);

  bool has(uint64_t client_id) const { return index_.count(client_id) != 0; }
  size_t size() const { return lru_.size(); }
  size_t max_sessions() const { return max_sessions_; }

  // Snapshot encoding (versioned); decode replaces the whole table.
  std::string encode() const;
  Status decode(const std::string& data);

 private:
  struct Session {
    uint64_t client_id = 0;
    uint64_t responded_up_to = 0;
    std::map<uint64_t, Result> history;  // series_id -> result, > responded_up_to
  };
  void touch(std::list<Session>::iterator it);

  size_t max_sessions_;
  std::list<Session> lru_;  // front = most recently used
  std::unordered_map<uint64_t, std::list<Session>::iterator> index_;
};

}  // namespace dragonboat::rsm
