// raft_core_bench: entries per second through three in-process peers driven
// by the Raft core alone (in-memory logs, no I/O, no threads). Measures the
// protocol's own cost: proposing, building/handling messages, commit and
// handing committed entries out.
//
//   raft_core_bench [--seconds S] [--payload BYTES] [--batch N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/peer.h"

using namespace dragonboat::raft;
using dragonboat::Status;

namespace {

struct Node {
  MemoryLog log;
  std::unique_ptr<SeededRandom> rng;
  std::unique_ptr<Peer> peer;
  uint64_t applied = 0;
};

struct Result {
  double entries_per_sec;
  double ns_per_entry;
  uint64_t entries;
};

Result run(double seconds, size_t payload, size_t batch) {
  std::map<uint64_t, std::string> members{{1, "a"}, {2, "b"}, {3, "c"}};
  std::map<uint64_t, Node> nodes;
  for (auto& [id, addr] : members) {
    Node& n = nodes[id];
    n.rng = std::make_unique<SeededRandom>(id);
    Config c;
    c.node_id = id;
    c.cluster_id = 1;
    c.election_rtt = 10;
    c.heartbeat_rtt = 1;
    c.max_inflight = 1024;
    Status s = Peer::launch(c, &n.log, n.rng.get(), members, false, &n.peer);
    if (!s.ok()) {
      std::fprintf(stderr, "launch: %s\n", s.to_string().c_str());
      std::exit(1);
    }
  }
  std::vector<Message> net;
  auto pump = [&]() {
    bool any = true;
    while (any) {
      any = false;
      for (auto& [id, n] : nodes) {
        if (!n.peer->has_update(true)) continue;
        any = true;
        Update u = n.peer->get_update(true);
        if (!u.snapshot.empty()) n.log.apply_snapshot(u.snapshot);
        n.log.append(u.entries_to_save);
        if (!u.state.empty()) n.log.set_hard_state(u.state);
        for (auto& m : u.messages) net.push_back(std::move(m));
        for (const auto& e : u.committed_entries) {
          if (e.type == EntryType::kConfigChange) {
            ConfigChange cc;
            if (decode_config_change(e.cmd, &cc)) (void)n.peer->apply_config_change(cc, e.index);
          }
          n.applied = e.index;
        }
        n.peer->commit_update(u);
        // Keep memory flat: compaction as the engine will do after snapshots.
        if (n.applied > 50000 && n.applied % 50000 < batch + 1) {
          Snapshot ss;
          ss.index = n.applied;
          (void)n.log.term(ss.index, &ss.term);
          ss.membership = n.peer->membership();
          n.log.save_snapshot(ss);
          (void)n.log.compact(ss.index - 1000);
        }
      }
      std::vector<Message> batch_msgs;
      batch_msgs.swap(net);
      for (const auto& m : batch_msgs) {
        any = true;
        (void)nodes[m.to].peer->step(m);
      }
    }
  };
  Message campaign;
  campaign.type = MessageType::kElection;
  pump();
  (void)nodes[1].peer->raft().step(campaign);
  pump();
  Node& leader = nodes[1];
  if (!leader.peer->is_leader()) {
    std::fprintf(stderr, "no leader\n");
    std::exit(1);
  }
  std::string cmd(payload, 'x');
  uint64_t start_applied = leader.applied;
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::duration<double>(seconds);
  uint64_t key = 0;
  std::vector<Entry> ents(batch);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int round = 0; round < 16; ++round) {
      for (auto& e : ents) {
        e.key = ++key;
        e.cmd = cmd;
      }
      Status s = leader.peer->propose(ents);
      if (!s.ok()) break;
      pump();
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t done = leader.applied - start_applied;
  return Result{done / secs, secs * 1e9 / done, done};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  size_t payload = 16;
  std::vector<size_t> batches{1, 16, 256};
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--payload") && i + 1 < argc) {
      payload = std::strtoul(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) {
      batches = {std::strtoul(argv[++i], nullptr, 10)};
    } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--payload B] [--batch N] [--repeats R]\n", argv[0]);
      return 2;
    }
  }
  std::printf("raft core: 3 in-process peers, in-memory logs, no I/O, %zu-byte payloads, %.1f s x %d runs\n",
              payload, seconds, repeats);
  std::printf("%-22s %14s %14s %14s %12s\n", "proposals per step", "min entries/s", "median", "max",
              "ns/entry(med)");
  for (size_t b : batches) {
    std::vector<Result> rs;
    for (int r = 0; r < repeats; ++r) rs.push_back(run(seconds, payload, b));
    std::sort(rs.begin(), rs.end(),
              [](const Result& x, const Result& y) { return x.entries_per_sec < y.entries_per_sec; });
    const Result& med = rs[rs.size() / 2];
    std::printf("%-22zu %14.0f %14.0f %14.0f %12.0f\n", b, rs.front().entries_per_sec, med.entries_per_sec,
                rs.back().entries_per_sec, med.ns_per_entry);
  }
  return 0;
}
