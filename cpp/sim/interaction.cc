#include "sim/interaction.h"

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "raft/peer.h"
#include "sim/format.h"
#include "sim/replica.h"

namespace dragonboat::sim {

using namespace dragonboat::raft;  // test tooling: brevity over qualification

namespace {

struct TNode {
  uint64_t id = 0;
  bool join = false;
  bool observer = false;
  bool witness = false;
  Replica r;  // its Peer (not alive while down), in-memory storage, applied index
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

uint64_t num(const std::string& s) {
  size_t pos = 0;
  uint64_t v = std::stoull(s, &pos);
  if (pos != s.size()) throw std::runtime_error("not a number: " + s);
  return v;
}

}  // namespace

struct InteractionCluster::Impl {
  Config base;
  std::map<uint64_t, std::string> initial;
  std::map<uint64_t, TNode> nodes;
  std::vector<Message> queue;
  std::set<std::pair<uint64_t, uint64_t>> cut;
  std::vector<std::string> out;
  uint64_t key_seq = 0;

  void emit(const std::string& s) { out.push_back(s); }

  TNode& node(uint64_t id) {
    auto it = nodes.find(id);
    if (it == nodes.end()) throw std::runtime_error("no node " + std::to_string(id));
    return it->second;
  }
  Peer& peer(uint64_t id) {
    TNode& n = node(id);
    if (!n.r.alive()) throw std::runtime_error("node " + std::to_string(id) + " is down");
    return n.r.peer();
  }

  std::vector<uint64_t> ids(const std::string& spec) {
    std::vector<uint64_t> r;
    if (spec == "all") {
      for (auto& [id, n] : nodes)
        if (n.r.alive()) r.push_back(id);
      return r;
    }
    std::stringstream ss(spec);
    std::string part;
    while (std::getline(ss, part, ',')) r.push_back(num(part));
    return r;
  }

  void launch(TNode& n) {
    n.r.reseed(n.id);
    Status s = n.r.launch(replica_config(base, n.id, n.observer, n.witness),
                          n.join ? std::map<uint64_t, std::string>{} : initial, n.join);
    if (!s.ok()) throw std::runtime_error("launch: " + s.to_string());
  }

  void cmd_cluster(const std::vector<std::string>& a) {
    base = Config{};
    base.election_rtt = 10;
    base.heartbeat_rtt = 1;
    base.pre_vote = false;
    for (size_t i = 1; i < a.size(); ++i) {
      auto eq = a[i].find('=');
      if (eq == std::string::npos) throw std::runtime_error("bad option " + a[i]);
      std::string k = a[i].substr(0, eq), v = a[i].substr(eq + 1);
      if (k == "voters") {
        for (uint64_t id : ids(v)) initial[id] = "addr" + std::to_string(id);
      } else if (k == "pre_vote") {
        base.pre_vote = num(v) != 0;
      } else if (k == "check_quorum") {
        base.check_quorum = num(v) != 0;
      } else if (k == "ordered") {
        base.ordered_config_change = num(v) != 0;
      } else if (k == "quiesce") {
        base.quiesce_ticks = num(v);
      } else if (k == "max_in_mem") {
        base.max_in_mem_log_size = num(v);
      } else if (k == "election") {
        base.election_rtt = num(v);
      } else if (k == "heartbeat") {
        base.heartbeat_rtt = num(v);
      } else if (k == "max_bytes") {
        base.max_replicate_bytes = num(v);
      } else if (k == "inflight") {
        base.max_inflight = num(v);
      } else {
        throw std::runtime_error("unknown option " + k);
      }
    }
    for (const auto& [id, addr] : initial) {
      TNode& n = nodes[id];
      n.id = id;
      launch(n);
    }
    process_all_once();
  }

  // Carries out one Update of `n`, narrating it; its messages are queued.
  void process(TNode& n) {
    if (!n.r.alive() || !n.r.peer().has_update(true)) return;
    std::string p = "n" + std::to_string(n.id) + ": ";
    std::string applied;  // the "apply [...]" list
    size_t count = 0;
    Hooks h;
    h.on_update = [&](const Update& u) {
      if (u.leader_changed) {
        emit(p + "leader=" + std::to_string(u.leader.leader_id) +
             " term=" + std::to_string(u.leader.term) + " role=" + role_name(n.r.peer().role()));
      }
      if (!u.state.empty()) {
        emit(p + "persist state term=" + std::to_string(u.state.term) +
             " vote=" + std::to_string(u.state.vote) + " commit=" + std::to_string(u.state.commit));
      }
      if (!u.snapshot.empty()) {
        emit(p + "persist snapshot " + std::to_string(u.snapshot.term) + "/" +
             std::to_string(u.snapshot.index) + (u.snapshot.witness ? " witness" : ""));
      }
      if (!u.entries_to_save.empty()) {
        std::string s = p + "persist entries [";
        for (size_t i = 0; i < u.entries_to_save.size(); ++i) {
          s += (i ? ", " : "") + format_entry(u.entries_to_save[i]);
        }
        emit(s + "]");
      }
    };
    h.apply = [&](const Entry& e, const AppliedChange* change) {
      applied += (count++ ? ", " : "") + format_entry(e);
      if (change && change->decoded && !change->status.ok()) {
        applied += " REJECTED(" + change->status.message() + ")";
      }
    };
    h.after_apply = [&](const Update& u) {
      if (!u.committed_entries.empty()) emit(p + "apply [" + applied + "]");
      for (const auto& r : u.ready_to_reads) {
        emit(p + "read ctx=" + std::to_string(r.ctx.low) + "." + std::to_string(r.ctx.high) +
             " ready at index " + std::to_string(r.index));
      }
      if (!u.dropped_entries.empty()) {
        emit(p + "dropped " + std::to_string(u.dropped_entries.size()) + " proposal(s)");
      }
      for (const auto& c : u.dropped_read_indexes) {
        emit(p + "dropped read ctx=" + std::to_string(c.low) + "." + std::to_string(c.high));
      }
    };
    for (auto& m : n.r.process(h)) queue.push_back(std::move(m));
  }

  bool process_all_once() {
    bool any = false;
    for (auto& [id, n] : nodes) {
      if (n.r.alive() && n.r.peer().has_update(true)) {
        process(n);
        any = true;
      }
    }
    return any;
  }

  bool deliver(const std::set<uint64_t>* only) {
    std::vector<Message> now, later;
    for (auto& m : queue) ((only == nullptr || only->count(m.to)) ? now : later).push_back(std::move(m));
    queue.swap(later);
    for (const auto& m : now) {
      auto it = nodes.find(m.to);
      if (it == nodes.end() || !it->second.r.alive() || cut.count({m.from, m.to})) {
        emit("dropped: " + format_message(m));
        continue;
      }
      emit(format_message(m));
      Status s = it->second.r.peer().step(m);
      if (!s.ok()) emit("  step error: " + s.to_string());
    }
    return !now.empty();
  }

  void stabilize() {
    for (int i = 0; i < 1000; ++i) {
      bool a = process_all_once();
      bool b = deliver(nullptr);
      if (!a && !b) return;
    }
    throw std::runtime_error("did not stabilize");
  }

  static void append_members(std::ostringstream& s, const Membership& m) {
    auto list = [&s](const char* name, const auto& ids_of) {
      s << " " << name << "=";
      const char* sep = "";
      for (uint64_t v : ids_of) {
        s << sep << v;
        sep = ",";
      }
    };
    auto keys = [](const std::map<uint64_t, std::string>& mm) {
      std::vector<uint64_t> k;
      for (const auto& [v, a] : mm) k.push_back(v);
      return k;
    };
    list("voters", keys(m.addresses));
    if (!m.observers.empty()) list("observers", keys(m.observers));
    if (!m.witnesses.empty()) list("witnesses", keys(m.witnesses));
    if (!m.removed.empty()) list("removed", m.removed);
  }

  void status(uint64_t id) {
    TNode& n = node(id);
    if (!n.r.alive()) {
      emit("n" + std::to_string(id) + ": down");
      return;
    }
    const Raft& r = n.r.peer().raft();
    std::ostringstream s;
    s << "n" << id << ": " << role_name(r.role()) << " term=" << r.term() << " leader=" << r.leader_id()
      << " commit=" << r.log().committed() << " applied=" << n.r.applied() << " last=" << r.log().last_index();
    if (r.quiesced()) s << " quiesced";
    append_members(s, r.membership());
    emit(s.str());
    if (r.is_leader()) {
      for (const auto& [pid, pr] : r.progress()) {
        std::ostringstream p;
        p << "  progress " << pid << ": " << progress_state_name(pr.state()) << " match=" << pr.match()
          << " next=" << pr.next();
        if (pr.is_paused()) p << " paused";
        emit(p.str());
      }
    }
  }

  void run(const std::vector<std::string>& a) {
    const std::string& c = a[0];
    auto need = [&](size_t n) {
      if (a.size() < n) throw std::runtime_error("missing arguments for " + c);
    };
    if (c == "cluster") {
      cmd_cluster(a);
    } else if (c == "add-node") {
      need(2);
      TNode& n = nodes[num(a[1])];
      n.id = num(a[1]);
      n.join = true;
      n.observer = a.size() > 2 && a[2] == "observer";
      n.witness = a.size() > 2 && a[2] == "witness";
      launch(n);
      emit("n" + a[1] + ": started empty" + (a.size() > 2 ? " as " + a[2] : ""));
    } else if (c == "tick") {
      need(2);
      uint64_t count = a.size() > 2 ? num(a[2]) : 1;
      for (uint64_t id : ids(a[1]))
        for (uint64_t i = 0; i < count; ++i) peer(id).tick();
    } else if (c == "campaign") {
      need(2);
      Message m;
      m.type = MessageType::kElection;
      (void)peer(num(a[1])).raft().step(m);
    } else if (c == "propose") {
      need(3);
      std::vector<Entry> ents;
      for (size_t i = 2; i < a.size(); ++i) {
        Entry e;
        e.key = ++key_seq;
        e.cmd = a[i];
        ents.push_back(e);
      }
      Status s = peer(num(a[1])).propose(ents);
      if (!s.ok()) emit("propose: " + s.to_string());
    } else if (c == "propose-cc") {
      need(4);
      ConfigChange cc;
      if (a[2] == "add") {
        cc.type = ConfigChangeType::kAddNode;
      } else if (a[2] == "remove") {
        cc.type = ConfigChangeType::kRemoveNode;
      } else if (a[2] == "add-observer") {
        cc.type = ConfigChangeType::kAddObserver;
      } else if (a[2] == "add-witness") {
        cc.type = ConfigChangeType::kAddWitness;
      } else {
        throw std::runtime_error("unknown change " + a[2]);
      }
      cc.node_id = num(a[3]);
      cc.address = "addr" + a[3];
      cc.config_change_id = peer(num(a[1])).membership().config_change_id;
      if (a.size() > 4 && a[4].rfind("ccid=", 0) == 0) cc.config_change_id = num(a[4].substr(5));
      Status s = peer(num(a[1])).propose_config_change(cc, ++key_seq);
      if (!s.ok()) emit("propose-cc: " + s.to_string());
    } else if (c == "read") {
      need(3);
      Status s = peer(num(a[1])).read_index(ReadCtx{num(a[2]), 0});
      if (!s.ok()) emit("read: " + s.to_string());
    } else if (c == "transfer") {
      need(3);
      Status s = peer(num(a[1])).request_leader_transfer(num(a[2]));
      if (!s.ok()) emit("transfer: " + s.to_string());
    } else if (c == "process") {
      need(2);
      for (uint64_t id : ids(a[1])) process(node(id));
    } else if (c == "deliver") {
      if (a.size() > 1) {
        auto v = ids(a[1]);
        std::set<uint64_t> only(v.begin(), v.end());
        deliver(&only);
      } else {
        deliver(nullptr);
      }
    } else if (c == "stabilize") {
      stabilize();
    } else if (c == "isolate") {
      need(2);
      uint64_t x = num(a[1]);
      for (auto& [id, n] : nodes) {
        if (id == x) continue;
        cut.insert({x, id});
        cut.insert({id, x});
      }
    } else if (c == "cut") {
      need(3);
      cut.insert({num(a[1]), num(a[2])});
      cut.insert({num(a[2]), num(a[1])});
    } else if (c == "heal") {
      cut.clear();
    } else if (c == "crash") {
      need(2);
      (void)node(num(a[1])).r.crash();  // in-memory storage: only persisted state was kept
      std::vector<Message> keep;
      for (auto& m : queue)
        if (m.to != num(a[1])) keep.push_back(std::move(m));
      queue.swap(keep);
    } else if (c == "restart") {
      need(2);
      launch(node(num(a[1])));
      status(num(a[1]));
    } else if (c == "snapshot") {
      need(2);
      TNode& n = node(num(a[1]));
      Snapshot ss;
      ss.index = n.r.applied();
      if (!n.r.log().term(ss.index, &ss.term).ok()) throw std::runtime_error("snapshot: no term");
      ss.membership = peer(n.id).membership();
      ss.data = "state@" + std::to_string(ss.index);
      (void)n.r.storage().save_snapshot(ss);
      emit("n" + a[1] + ": snapshot at " + std::to_string(ss.term) + "/" + std::to_string(ss.index));
    } else if (c == "compact") {
      need(3);
      Status s = node(num(a[1])).r.storage().compact(num(a[2]));
      emit("n" + a[1] + ": compact to " + a[2] + ": " + s.to_string());
    } else if (c == "unreachable") {
      need(3);
      peer(num(a[1])).report_unreachable(num(a[2]));
    } else if (c == "membership") {
      for (uint64_t id : ids(a.size() > 1 ? a[1] : "all")) {
        const Membership& m = peer(id).membership();
        std::ostringstream s;
        s << "n" << id << ": ccid=" << m.config_change_id;
        append_members(s, m);
        emit(s.str());
      }
    } else if (c == "status") {
      for (uint64_t id : ids(a.size() > 1 ? a[1] : "all")) status(id);
    } else if (c == "log") {
      need(2);
      TNode& n = node(num(a[1]));
      std::vector<Entry> ents;
      const RaftLog& lg = peer(n.id).raft().log();
      if (!lg.slice(lg.first_index(), lg.last_index() + 1, kNoLimit, &ents).ok()) {
        throw std::runtime_error("log unavailable");
      }
      std::string s = "n" + a[1] + ": first=" + std::to_string(lg.first_index()) + " [";
      for (size_t i = 0; i < ents.size(); ++i) s += (i ? ", " : "") + format_entry(ents[i]);
      emit(s + "]");
    } else {
      throw std::runtime_error("unknown command " + c);
    }
  }
};

InteractionCluster::InteractionCluster() : impl_(new Impl) {}
InteractionCluster::~InteractionCluster() { delete impl_; }

std::vector<std::string> InteractionCluster::run(const std::string& command) {
  impl_->out.clear();
  auto a = split(command);
  if (a.empty()) return {};
  try {
    impl_->run(a);
  } catch (const std::exception& e) {
    impl_->out.push_back(std::string("error: ") + e.what());
  }
  if (impl_->out.empty()) impl_->out.push_back("ok");
  return impl_->out;
}

}  // namespace dragonboat::sim
