// dragonboat/session.h — a client session (the reference's client.Session;
// Ongaro's thesis §6.3): proposals made through a registered session are
// applied at most once even when retried after a timeout.
//
// Use: NodeHost::sync_get_session() registers one; propose with it; after a
// proposal COMPLETES call proposal_completed() before the next proposal;
// after a timeout retry the same proposal with the session unchanged.
// NodeHost::get_noop_session() returns the no-op session: never registered,
// never deduplicated, usable concurrently. A Session object is a value; one
// registered session must not be used by two concurrent proposals.
#pragma once

#include <cstdint>

namespace dragonboat {

class Session {
 public:
  // Series IDs with a special meaning.
  static constexpr uint64_t kNoOpSeriesID = 0;
  static constexpr uint64_t kSeriesIDForRegister = UINT64_MAX - 1;
  static constexpr uint64_t kSeriesIDForUnregister = UINT64_MAX;

  Session() = default;
  // A no-op session for `cluster_id`.
  static Session noop(uint64_t cluster_id) {
    Session s;
    s.cluster_id = cluster_id;
    return s;
  }
  // A new, not yet registered, session with a random non-zero client ID
  // (the reference's NewSession). Client IDs must not collide across all the
  // processes using a group, so the generator is seeded with 256 bits.
  static Session create(uint64_t cluster_id);
  // A new, not yet registered, session with the given client ID.
  static Session make(uint64_t cluster_id, uint64_t client_id) {
    Session s;
    s.cluster_id = cluster_id;
    s.client_id = client_id;
    s.series_id = kSeriesIDForRegister;
    return s;
  }

  bool is_noop() const { return series_id == kNoOpSeriesID && client_id == 0; }
  // The last proposal completed: move to the next series ID and tell the
  // group it may forget the cached results up to this one.
  void proposal_completed() {
    responded_to = series_id;
    ++series_id;
  }
  // Registration completed: the session is ready for proposals.
  void prepare_for_propose() {
    series_id = kNoOpSeriesID + 1;
    responded_to = 0;
  }
  void prepare_for_unregister() { series_id = kSeriesIDForUnregister; }
  void prepare_for_register() { series_id = kSeriesIDForRegister; }

  uint64_t cluster_id = 0;
  uint64_t client_id = 0;
  uint64_t series_id = kNoOpSeriesID;
  uint64_t responded_to = 0;
};

}  // namespace dragonboat
