// test_state_machines.h — the state machines of the C++ tests, one set for
// every test (no test writes its own). Pick the first that fits:
//
//  - CheckerSM / ConcurrentCheckerSM / OnDiskCheckerSM (checker_sm.h): count
//    applies and keep a hash chain, so a double, skipped or reordered apply
//    shows. Use them whenever a test asserts nothing about the state itself.
//  - KV (regular): "key=value" sets a key; a query is a key. Counts updates
//    and recoveries; can refuse one command (a failing state machine) and run
//    a hook before each update (to hold updates on a gate).
//  - ConcurrentCounter / OnDiskCounter: a running total of the commands
//    ("+1", "35"; anything else adds 1), for the concurrent and on-disk kinds;
//    ConcurrentCounter records its largest batch, OnDiskCounter keeps its state
//    in a file and reports its own applied index on open().
//  - GatedSave<SM>: any concurrent or on-disk kind whose snapshot save raises
//    `saving` and then waits for a gate.
//  - FileSnapshotChecker (regular): the checker whose snapshot keeps its state
//    in an external snapshot file (ISnapshotWriter::add_file).
//
// Every member a test inspects is public. Thread-safety: as the engine calls
// them (dragonboat/statemachine.h); fields read by a test while the engine
// runs are atomic or guarded by the public `mu`.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checker_sm.h"
#include "dragonboat/statemachine.h"

namespace dragonboat::test {

// The checker set, under the name every other test state machine has.
using dragonboat::testing::CheckerSM;
using dragonboat::testing::CheckerState;
using dragonboat::testing::ConcurrentCheckerSM;
using dragonboat::testing::OnDiskCheckerSM;

// Reads a snapshot stream to its end.
inline Status read_snapshot(ISnapshotReader* r, std::string* out) {
  char buf[4096];
  for (;;) {
    size_t got = 0;
    Status s = r->read(buf, sizeof(buf), &got);
    if (!s.ok()) return s;
    if (got == 0) return Status::OK();
    out->append(buf, got);
  }
}

// ---- KV: the regular kind ---------------------------------------------------
// "key=value" sets key to value (a command without '=' sets nothing but still
// counts as an update); a query is a key, answered with its value ("" when
// missing). Result: value = the number of updates so far, this one included;
// data = the command. Snapshot: "<updates>\n" then one "key=value\n" a key.
class KV : public IStateMachine {
 public:
  KV() = default;
  // A KV that refuses the command `refuse` (kInvalidOperation, nothing
  // applied or counted): the engine must stop at that entry.
  explicit KV(std::string refuse) : fail_on(std::move(refuse)) {}

  Status update(std::string_view cmd, Result* r) override {
    if (before_update) before_update(cmd);
    if (!fail_on.empty() && cmd == fail_on) {
      return Status(ErrorCode::kInvalidOperation, "kv: refused command " + std::string(cmd));
    }
    std::lock_guard<std::mutex> g(mu);
    auto eq = cmd.find('=');
    if (eq != std::string_view::npos) data[std::string(cmd.substr(0, eq))] = std::string(cmd.substr(eq + 1));
    r->value = ++updates;
    r->data = std::string(cmd);
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    std::lock_guard<std::mutex> g(mu);
    auto it = data.find(std::string(q));
    *a = it == data.end() ? "" : it->second;
    return Status::OK();
  }
  Status save_snapshot(ISnapshotWriter* w) override {
    std::string out;
    {
      std::lock_guard<std::mutex> g(mu);
      out = std::to_string(updates) + "\n";
      for (auto& [k, v] : data) out += k + "=" + v + "\n";
    }
    return w->write(out.data(), out.size());
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::string in;
    Status s = read_snapshot(r, &in);
    if (!s.ok()) return s;
    size_t pos = in.find('\n');
    if (pos == std::string::npos) return Status(ErrorCode::kCorrupted, "kv: bad snapshot payload");
    std::lock_guard<std::mutex> g(mu);
    data.clear();
    updates = std::stoull(in.substr(0, pos));
    ++recoveries;
    for (size_t start = pos + 1; start < in.size();) {
      size_t end = in.find('\n', start);
      std::string line = in.substr(start, end - start);
      auto eq = line.find('=');
      data[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
    return Status::OK();
  }

  std::mutex mu;  // guards data, updates and recoveries
  std::map<std::string, std::string> data;
  uint64_t updates = 0;
  int recoveries = 0;  // recover_from_snapshot calls
  std::string fail_on;  // a command refused (see the constructor); "" = none
  // Called with each command before it is applied (outside `mu`), e.g. to
  // hold updates until a gate opens. Set it before the engine gets the KV.
  std::function<void(std::string_view)> before_update;
};

// A StateMachineFactory of KVs (every replica its own).
inline std::unique_ptr<IStateMachine> make_kv(uint64_t, uint64_t) { return std::make_unique<KV>(); }

// ---- counters: the concurrent and on-disk kinds ----------------------------
// The amount a command adds: its value when it is a decimal number (an
// optional leading '+'), otherwise 1.
inline uint64_t counter_amount(std::string_view cmd) {
  if (!cmd.empty() && cmd[0] == '+') cmd.remove_prefix(1);
  if (cmd.empty()) return 1;
  uint64_t v = 0;
  for (char c : cmd) {
    if (c < '0' || c > '9') return 1;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// The concurrent kind: batched updates, lookups alongside them. Result value
// = the total after the entry; any query answers the total; max_batch is the
// largest batch update() was given.
class ConcurrentCounter : public IConcurrentStateMachine {
 public:
  Status update(std::vector<SMEntry>* entries) override {
    max_batch = std::max<size_t>(max_batch, entries->size());
    for (auto& e : *entries) e.result.value = total += counter_amount(e.cmd);
    return Status::OK();
  }
  Status lookup(std::string_view, std::string* a) override {
    *a = std::to_string(total.load());
    return Status::OK();
  }
  Status prepare_snapshot(std::string* ctx) override {
    *ctx = std::to_string(total.load());
    return Status::OK();
  }
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override { return w->write(ctx.data(), ctx.size()); }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::string in;
    Status s = read_snapshot(r, &in);
    if (s.ok()) total = std::stoull(in);
    return s;
  }

  std::atomic<uint64_t> total{0};
  std::atomic<size_t> max_batch{0};
};

// The on-disk kind: the state ("<applied index> <total>") lives in the file
// `path`, rewritten (temporary file, rename) after every update batch and
// recovery, so sync() has nothing left to do and open() reports the index
// the file holds: a restart replays only later entries. Result value = the
// total after the entry; any query answers the total. The counters given
// outlive the instance (a test compares them across a restart): `updates`
// counts entries applied, `saves` snapshot saves (either may be null).
// `on_open`, when set, runs first in open() with its stop signal and may end
// it with an error (a slow store that gives up when the NodeHost stops).
class OnDiskCounter : public IOnDiskStateMachine {
 public:
  explicit OnDiskCounter(std::string path, std::atomic<uint64_t>* updates = nullptr,
                         std::atomic<uint64_t>* saves = nullptr)
      : path_(std::move(path)), updates_(updates), saves_(saves) {}
  std::function<Status(const StopSignal&)> on_open;
  Status open(const StopSignal& stop, uint64_t* applied) override {
    if (on_open) {
      Status s = on_open(stop);
      if (!s.ok()) return s;
    }
    std::lock_guard<std::mutex> g(mu_);
    std::ifstream in(path_);
    if (!(in >> applied_ >> total_)) applied_ = total_ = 0;
    *applied = applied_;
    return Status::OK();
  }
  Status update(std::vector<SMEntry>* entries) override {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& e : *entries) {
      if (updates_) *updates_ += 1;
      applied_ = e.index;
      total_ += counter_amount(e.cmd);
      e.result.value = total_;
    }
    return write();  // persist as we go (an application's store commits its own batches)
  }
  Status lookup(std::string_view, std::string* a) override {
    std::lock_guard<std::mutex> g(mu_);
    *a = std::to_string(total_);
    return Status::OK();
  }
  Status sync() override { return Status::OK(); }
  Status prepare_snapshot(std::string* ctx) override {
    std::lock_guard<std::mutex> g(mu_);
    *ctx = std::to_string(applied_) + " " + std::to_string(total_);
    return Status::OK();
  }
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override {
    if (saves_) *saves_ += 1;
    return w->write(ctx.data(), ctx.size());
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    ++recoveries;
    std::string in;
    Status s = read_snapshot(r, &in);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> g(mu_);
    applied_ = std::stoull(in.substr(0, in.find(' ')));
    total_ = std::stoull(in.substr(in.find(' ') + 1));
    return write();
  }

  std::atomic<int> recoveries{0};  // recover_from_snapshot calls

 private:
  Status write() {  // REQUIRES: mu_
    std::ofstream out(path_ + ".tmp", std::ios::trunc);
    out << applied_ << " " << total_;
    out.close();
    std::filesystem::rename(path_ + ".tmp", path_);
    return Status::OK();
  }

  std::mutex mu_;
  std::string path_;
  std::atomic<uint64_t>* updates_;
  std::atomic<uint64_t>* saves_;
  uint64_t applied_ = 0, total_ = 0;
};

// ---- GatedSave<SM> ----------------------------------------------------------
// SM (a concurrent or on-disk kind, e.g. ConcurrentCheckerSM) whose snapshot
// save sets `saving` and then waits for `gate` before saving: a save the test
// holds open while it checks what goes on meanwhile.
template <typename SM>
class GatedSave : public SM {
 public:
  template <typename... Args>
  explicit GatedSave(std::shared_future<void> gate, Args&&... args)
      : SM(std::forward<Args>(args)...), gate_(std::move(gate)) {}
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override {
    saving = true;
    gate_.wait();
    return SM::save_snapshot(ctx, w);
  }

  std::atomic<bool> saving{false};

 private:
  std::shared_future<void> gate_;
};

// ---- FileSnapshotChecker -------------------------------------------------------
// The regular checker (CheckerSM's state and queries) whose snapshot puts the
// whole state in an external file (`dir`/state-<n>, ID 7, metadata
// "checker-state") and only "files:1" in the stream; recovery refuses a
// snapshot whose files or stream differ, so a lost, renamed or damaged file
// shows. `recovered_files` counts recoveries that got their file.
class FileSnapshotChecker : public IStateMachine {
 public:
  explicit FileSnapshotChecker(std::string dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }
  Status update(std::string_view cmd, Result* r) override {
    r->value = st_.apply(cmd);
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override { return st_.lookup(q, a); }
  Status save_snapshot(ISnapshotWriter* w) override {
    const std::string path = dir_ + "/state-" + std::to_string(++saves_);
    std::ofstream(path, std::ios::binary) << st_.encode();
    Status s = w->add_file(7, path, "checker-state");
    return s.ok() ? dragonboat::testing::write_all(w, "files:1") : s;
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::string stream;
    Status s = dragonboat::testing::read_all(r, &stream);
    if (!s.ok()) return s;
    const std::vector<SnapshotFile>& files = r->files();
    if (stream != "files:1" || files.size() != 1 || files[0].file_id != 7 || files[0].metadata != "checker-state") {
      return Status(ErrorCode::kCorrupted, "file checker: the snapshot lost its file");
    }
    std::ifstream in(files[0].filepath, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!st_.decode(data)) return Status(ErrorCode::kCorrupted, "file checker: bad state file");
    ++recovered_files;
    return Status::OK();
  }
  bool hash(uint64_t* out) override {
    *out = st_.hash;
    return true;
  }
  const CheckerState& state() const { return st_; }
  std::atomic<int> recovered_files{0};

 private:
  std::string dir_;
  uint64_t saves_ = 0;
  CheckerState st_;
};

}  // namespace dragonboat::test
