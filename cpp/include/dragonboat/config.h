// dragonboat/config.h — the settings of a NodeHost and of each Raft node it
// runs (the reference's config.NodeHostConfig and config.Config; same names
// in snake_case, same defaults where the reference has them).
//
// validate() returns a Status whose message names the offending field;
// NodeHost calls it and refuses to start a host or a cluster with a bad value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dragonboat/events.h"
#include "dragonboat/raftio.h"
#include "dragonboat/status.h"

namespace dragonboat {

// Per Raft node (one replica of one group).
// How snapshot files are compressed (the reference's config.CompressionType).
enum class CompressionType : uint8_t { kNoCompression = 0, kSnappy = 1, kLZ4 = 2 };

struct Config {
  uint64_t node_id = 0;     // non-zero, unique within the group
  uint64_t cluster_id = 0;  // the group
  // The leader steps down when it cannot hear from a quorum for an
  // election timeout (recommended on; it also enables lease-free safety of
  // leader transfers).
  bool check_quorum = false;
  // Ticks (RTTMillisecond each) without a leader before campaigning; the
  // reference recommends 10 * heartbeat_rtt. REQUIRES: > 2 * heartbeat_rtt.
  uint64_t election_rtt = 10;
  uint64_t heartbeat_rtt = 1;  // ticks between leader heartbeats; > 0
  // Take a snapshot every this many applied entries (0: never automatically).
  uint64_t snapshot_entries = 0;
  // Entries kept in the log behind a snapshot so slightly lagging followers
  // catch up from the log rather than by snapshot.
  uint64_t compaction_overhead = 0;
  // Membership change requests must quote the current config change ID.
  bool ordered_config_change = false;
  // Bytes of proposed-but-not-applied entries before proposals get
  // kSystemBusy (0: unlimited).
  uint64_t max_in_mem_log_size = 0;
  // Committed entries waiting for the state machine beyond which the group
  // stops handing out more (they wait in the log, not in memory): a slow
  // state machine holds back its own group only. Not in the reference.
  uint64_t max_apply_backlog = 16384;
  // Log entries are dropped after every snapshot either way; by default the
  // LogDB space they took is reclaimed at once (a storage compaction on the
  // snapshot worker). With this set, that waits for request_compaction.
  bool disable_auto_compactions = false;
  bool is_observer = false;  // non-voting member
  bool is_witness = false;   // voting member without a state machine
  // Idle groups stop heartbeating (thousands of idle groups cost little).
  bool quiesce = false;
  // Snapshot files are written compressed block by block (a block is kept
  // compressed only when that makes it smaller), and streamed to followers
  // as stored. Readers take any compression, so it may change between runs.
  CompressionType snapshot_compression_type = CompressionType::kNoCompression;
  // Proposals are compressed by the node that takes them (on the caller's
  // thread), stored and replicated compressed, and decompressed just before
  // they are applied; one that would not shrink is kept as it is.
  // max_proposal_payload_size limits the uncompressed size. Every replica
  // reads either form, so it may differ between replicas and runs.
  CompressionType entry_compression_type = CompressionType::kNoCompression;

  // OK, or kInvalidClusterSettings naming the field.
  Status validate() const;
};

// RequestSnapshot's option (reference: SnapshotOption).
struct SnapshotOption {
  // Write the snapshot under export_path instead of the managed snapshot
  // directory; it is not used for compaction (repair, backups).
  bool exported = false;
  std::string export_path;
  // Compact the log keeping compaction_overhead entries instead of the
  // group's Config value.
  bool override_compaction_overhead = false;
  uint64_t compaction_overhead = 0;
};

// The longest tick NodeHostConfig::rtt_millisecond may set (one day).
inline constexpr uint64_t kMaxRttMillisecond = 86'400'000;

// Per NodeHost (one per process, normally).
struct NodeHostConfig {
  uint64_t deployment_id = 0;     // hosts of different deployments never talk
  std::string wal_dir;            // the LogDB's write-ahead log (<wal_dir>/shard-<i>); empty: in node_host_dir
  std::string node_host_dir;      // required; created when missing
  uint64_t rtt_millisecond = 200; // one logical tick; in [1, kMaxRttMillisecond]
  std::string raft_address;       // "host:port" other hosts reach us at; required
  std::string listen_address;     // defaults to raft_address
  bool mutual_tls = false;
  std::string ca_file, cert_file, key_file;
  // Per-connection bound of queued outgoing bytes (0: 64 MiB).
  uint64_t max_send_queue_size = 0;
  // Per-replica bound of received, not yet stepped message bytes; beyond it
  // messages are dropped and Raft retransmits (0: unbounded).
  uint64_t max_receive_queue_size = 0;
  // Outgoing snapshot streams are paced to this many bytes per second in
  // total per stream (0: unlimited).
  uint64_t max_snapshot_send_bytes_per_second = 0;
  // Incoming snapshot streams are read at most this fast, each (0: unlimited).
  uint64_t max_snapshot_recv_bytes_per_second = 0;
  // Proposals are also marked committed when their entry commits, before it
  // is applied (RequestState::committed / wait_committed).
  bool notify_commit = false;
  // Bound of one proposal's payload.
  uint64_t max_proposal_payload_size = 8 << 20;
  // LogDB shards (fixed at the first start); also the number of step
  // workers: a worker persists its groups with one sync per pass. Every
  // shard is its own fsync stream, and each fsync costs CPU as well as disk
  // time: 0 (automatic) keeps the count an existing directory recorded and
  // gives a new one a shard per 4 cores (1 on a 2-core host, where one
  // shard beat two by 10-60 %, docs/benchmarks.md). Thousands of groups
  // with a very short RTT (5 ms) on a small host want 2: their start-up
  // elections are fsync-bound. See resolved_logdb_shards().
  uint64_t logdb_shards = 0;
  // Threads applying committed entries to state machines.
  uint64_t apply_workers = 2;
  // Threads saving and recovering snapshots (at most one operation per
  // group at a time).
  uint64_t snapshot_workers = 1;
  // How long an engine thread (step and apply workers, the TCP transport's
  // I/O thread, and a caller's thread blocked in a sync_ call) polls for
  // more work before it sleeps, in microseconds (0: never, the default). On
  // virtual machines waking a sleeping thread costs tens of microseconds per
  // hand-off, several per request: polling takes that off a request's path
  // (one request at a time: about 2x the writes/s on this project's 2-core
  // VM, docs/benchmarks.md) for CPU time spent polling. Each thread adapts
  // (common/spin_wait.h): it polls only after waits shorter than this, so a
  // rarely woken thread never polls and a host whose groups only heartbeat
  // polls briefly around each heartbeat round (not at all once they
  // quiesce). At most 10,000 and less than half of rtt_millisecond (ticks
  // alone would otherwise keep an idle host polling). Metric:
  // dragonboat_busy_poll_wakeups_total.
  uint64_t busy_poll_microseconds = 0;
  // Proposals + reads waiting per node before kSystemBusy.
  uint64_t max_pending_per_node = 4096;
  // Listeners (dragonboat/events.h); null: none. Called on one NodeHost
  // thread, off the engine's paths.
  std::shared_ptr<IRaftEventListener> raft_event_listener;
  std::shared_ptr<ISystemEventListener> system_event_listener;
  // Where the Raft state is stored (the reference's LogDBFactory); empty:
  // the built-in RocksDB LogDB. dragonboat/plugins.h has an in-memory one.
  // The NodeHost directory records the LogDB's name(): a directory written
  // by one LogDB is refused by another (kHardSettingsChanged).
  raftio::LogDBFactory logdb_factory;
  // How messages and snapshots travel (the reference's RaftRPCFactory);
  // empty: the built-in TCP transport (TLS, queue and bandwidth settings
  // above are its own). dragonboat/plugins.h has an in-process one.
  raftio::TransportFactory transport_factory;

  // OK, or an error naming the field: kInvalidAddress for a bad
  // raft_address/listen_address, kInvalidClusterSettings for the others.
  Status validate() const;
  // The shard count a NodeHost opened with this configuration uses:
  // logdb_shards, or when it is 0 the count recorded in node_host_dir's flag
  // file, or for a new directory one per 4 hardware threads (1 to 16).
  uint64_t resolved_logdb_shards() const;
};

}  // namespace dragonboat
