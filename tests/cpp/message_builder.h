// message_builder.h — one way for tests (and the fuzzer's seed generator,
// tests/fuzz/make_seeds.cc) to build raft::Message, raft::Entry and
// raft::Snapshot values. Each builder IS the value it builds (it derives from
// it), so it can be passed, stored or copied as one; its with_* setters
// return the builder, so a value is one expression:
//
//   Message m = msg(MT::kReplicate, /*from=*/2, /*to=*/1, /*term=*/2)
//                   .with_log(/*index=*/3, /*term=*/1)
//                   .with_commit(3)
//                   .with_entries({entry(4, 2, "x"), entry(5, 2, "y")});
//   Message s = msg(MT::kInstallSnapshot, 1, 3, 5).with_snapshot(snap(200, 4).with_file("f", 4096));
//
// Only the fields named are set; the rest keep raft::Message's defaults,
// except cluster_id: msg() puts every message in group kTestClusterID (1)
// unless with_cluster() says otherwise. Header-only, needs just raft/types.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "raft/types.h"

namespace dragonboat::test {

// The group msg() addresses by default: the group of every single-group test.
inline constexpr uint64_t kTestClusterID = 1;

// ---- entries ----------------------------------------------------------------

struct EntryBuilder : raft::Entry {
  EntryBuilder& with_type(raft::EntryType t) {
    type = t;
    return *this;
  }
  EntryBuilder& with_key(uint64_t k) {
    key = k;
    return *this;
  }
  // The client session fields (thesis §6.3).
  EntryBuilder& with_session(uint64_t client, uint64_t series, uint64_t responded = 0) {
    client_id = client;
    series_id = series;
    responded_to = responded;
    return *this;
  }
};

// An application entry at (index, term).
inline EntryBuilder entry(uint64_t index, uint64_t term, std::string cmd = "") {
  EntryBuilder e;
  e.index = index;
  e.term = term;
  e.cmd = std::move(cmd);
  return e;
}

// An entry to propose: the command and its proposal key (the core assigns
// index and term).
inline EntryBuilder proposal(std::string cmd, uint64_t key) { return entry(0, 0, std::move(cmd)).with_key(key); }

// ---- snapshots --------------------------------------------------------------

struct SnapshotBuilder : raft::Snapshot {
  SnapshotBuilder& with_membership(raft::Membership m) {
    membership = std::move(m);
    return *this;
  }
  // Only the voting members (membership.addresses).
  SnapshotBuilder& with_members(std::map<uint64_t, std::string> addresses) {
    membership.addresses = std::move(addresses);
    return *this;
  }
  SnapshotBuilder& with_file(std::string path, uint64_t size = 0) {
    filepath = std::move(path);
    file_size = size;
    return *this;
  }
  SnapshotBuilder& with_data(std::string d) {
    data = std::move(d);
    return *this;
  }
  SnapshotBuilder& with_witness(bool w = true) {
    witness = w;
    return *this;
  }
};

// A snapshot at (index, term).
inline SnapshotBuilder snap(uint64_t index, uint64_t term) {
  SnapshotBuilder s;
  s.index = index;
  s.term = term;
  return s;
}

// ---- messages ---------------------------------------------------------------

struct MessageBuilder : raft::Message {
  MessageBuilder& with_cluster(uint64_t id) {
    cluster_id = id;
    return *this;
  }
  // log_index and log_term: the entry before `entries` (kReplicate), the
  // sender's last entry (votes), the index acknowledged (kReplicateResp).
  MessageBuilder& with_log(uint64_t index, uint64_t term = 0) {
    log_index = index;
    log_term = term;
    return *this;
  }
  MessageBuilder& with_commit(uint64_t c) {
    commit = c;
    return *this;
  }
  MessageBuilder& with_reject(bool r = true) {
    reject = r;
    return *this;
  }
  MessageBuilder& with_hint(uint64_t low, uint64_t high = 0) {
    hint = low;
    hint_high = high;
    return *this;
  }
  // Appends one entry.
  MessageBuilder& with_entry(raft::Entry e) {
    entries.push_back(std::move(e));
    return *this;
  }
  // Replaces the entries.
  MessageBuilder& with_entries(std::vector<raft::Entry> es) {
    entries = std::move(es);
    return *this;
  }
  MessageBuilder& with_snapshot(raft::Snapshot s) {
    snapshot = std::move(s);
    return *this;
  }
};

// A message of `type` from `from` to `to` at `term`, in group kTestClusterID.
inline MessageBuilder msg(raft::MessageType type, uint64_t from, uint64_t to, uint64_t term) {
  MessageBuilder m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.cluster_id = kTestClusterID;
  m.term = term;
  return m;
}

// A local message (kElection, kLeaderTransfer, ...) as a node's own driver
// steps it: only the type set (no group, sender, receiver or term).
inline MessageBuilder local_msg(raft::MessageType type) {
  MessageBuilder m;
  m.type = type;
  return m;
}

}  // namespace dragonboat::test
