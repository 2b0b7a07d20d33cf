// tests/cpp/checker_sm.h — checker state machines for tests: NOT idempotent,
// so a double apply, a skipped or reordered entry, or a snapshot whose state
// is not the state at its index shows as a wrong count or hash.
//
// The same protocol as python/dragonboat/checker.py (docs/testing.md):
//  - state: count (commands applied), a running FNV-1a 64 hash fed, per
//    applied command, the 8 bytes of the new count (little-endian) then the
//    command bytes, and how many times each command was applied;
//  - update's result value: the count after the command;
//  - lookup "state" -> "<count> <hash> <distinct>"; "applied:<cmd>" -> "<times>";
//  - hash(): the running hash (the reference's IHash).
// Three kinds share the state: CheckerSM (regular), ConcurrentCheckerSM
// (prepare_snapshot copies the state) and OnDiskCheckerSM (the state lives
// in a file written atomically at sync()). Each may be told to save slowly.
// Thread-safety: as the engine calls them (dragonboat/statemachine.h).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dragonboat/statemachine.h"

namespace dragonboat::testing {

inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

inline uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
  return h;
}

struct CheckerState {
  uint64_t count = 0;
  uint64_t hash = kFnvOffset;
  uint64_t index = 0;  // last applied entry (batched kinds; 0 for the regular kind)
  std::map<std::string, uint64_t, std::less<>> applied;

  uint64_t apply(std::string_view cmd) {
    ++count;
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(count >> (8 * i));
    hash = fnv1a(hash, le, 8);
    hash = fnv1a(hash, cmd.data(), cmd.size());
    auto it = applied.find(cmd);
    if (it == applied.end()) {
      applied.emplace(std::string(cmd), 1);
    } else {
      ++it->second;
    }
    return count;
  }

  // What a "state" query answers: "<count> <hash> <distinct commands>".
  std::string summary() const {
    return std::to_string(count) + " " + std::to_string(hash) + " " + std::to_string(applied.size());
  }

  Status lookup(std::string_view q, std::string* a) const {
    if (q == "state") {
      *a = summary();
      return Status::OK();
    }
    if (q.substr(0, 8) == "applied:") {
      auto it = applied.find(q.substr(8));
      *a = std::to_string(it == applied.end() ? 0 : it->second);
      return Status::OK();
    }
    return Status(ErrorCode::kInvalidOperation, "checker: unknown query");
  }

  // [u64 count][u64 hash][u64 index][u64 n] n x ([u32 len][cmd][u64 times]), little-endian.
  std::string encode() const {
    std::string out;
    auto u64 = [&](uint64_t v) {
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
    };
    u64(count);
    u64(hash);
    u64(index);
    u64(applied.size());
    for (const auto& [cmd, times] : applied) {
      uint32_t n = static_cast<uint32_t>(cmd.size());
      for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
      out.append(cmd);
      u64(times);
    }
    return out;
  }

  bool decode(std::string_view in) {
    size_t p = 0;
    auto get = [&](int bytes, uint64_t* v) {
      if (in.size() - p < static_cast<size_t>(bytes)) return false;
      *v = 0;
      for (int i = 0; i < bytes; ++i) *v |= static_cast<uint64_t>(static_cast<unsigned char>(in[p + i])) << (8 * i);
      p += bytes;
      return true;
    };
    CheckerState s;
    uint64_t n = 0;
    if (!get(8, &s.count) || !get(8, &s.hash) || !get(8, &s.index) || !get(8, &n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len = 0, times = 0;
      if (!get(4, &len) || in.size() - p < len) return false;
      std::string cmd(in.substr(p, len));
      p += len;
      if (!get(8, &times)) return false;
      s.applied.emplace(std::move(cmd), times);
    }
    if (p != in.size()) return false;
    *this = std::move(s);
    return true;
  }
};

inline Status write_all(ISnapshotWriter* w, const std::string& data) { return w->write(data.data(), data.size()); }

inline Status read_all(ISnapshotReader* r, std::string* out) {
  char buf[16 << 10];
  for (;;) {
    size_t got = 0;
    Status s = r->read(buf, sizeof(buf), &got);
    if (!s.ok()) return s;
    if (got == 0) return Status::OK();
    out->append(buf, got);
  }
}

inline Status recover_state(ISnapshotReader* r, CheckerState* st) {
  std::string data;
  Status s = read_all(r, &data);
  if (!s.ok()) return s;
  if (!st->decode(data)) return Status(ErrorCode::kCorrupted, "checker: bad snapshot payload");
  return Status::OK();
}

// The regular kind.
class CheckerSM : public IStateMachine {
 public:
  explicit CheckerSM(std::chrono::milliseconds save_delay = {}) : save_delay_(save_delay) {}
  Status update(std::string_view cmd, Result* r) override {
    r->value = st_.apply(cmd);
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override { return st_.lookup(q, a); }
  Status save_snapshot(ISnapshotWriter* w) override {
    std::string data = st_.encode();
    std::this_thread::sleep_for(save_delay_);  // a slow save: updates must wait for it
    return write_all(w, data);
  }
  Status recover_from_snapshot(ISnapshotReader* r) override { return recover_state(r, &st_); }
  bool hash(uint64_t* out) override {
    *out = st_.hash;
    return true;
  }
  const CheckerState& state() const { return st_; }

 private:
  std::chrono::milliseconds save_delay_;
  CheckerState st_;
};

// The concurrent kind: lookups and the save run alongside updates, so the
// state is guarded and prepare_snapshot takes a copy.
class ConcurrentCheckerSM : public IConcurrentStateMachine {
 public:
  explicit ConcurrentCheckerSM(std::chrono::milliseconds save_delay = {}) : save_delay_(save_delay) {}
  Status update(std::vector<SMEntry>* entries) override {
    std::lock_guard<std::mutex> g(mu_);
    for (SMEntry& e : *entries) {
      e.result.value = st_.apply(e.cmd);
      st_.index = e.index;
    }
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    std::lock_guard<std::mutex> g(mu_);
    return st_.lookup(q, a);
  }
  Status prepare_snapshot(std::string* ctx) override {
    std::lock_guard<std::mutex> g(mu_);
    *ctx = st_.encode();
    return Status::OK();
  }
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override {
    std::this_thread::sleep_for(save_delay_);  // updates go on meanwhile
    return write_all(w, ctx);
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::lock_guard<std::mutex> g(mu_);
    return recover_state(r, &st_);
  }
  bool hash(uint64_t* out) override {
    std::lock_guard<std::mutex> g(mu_);
    *out = st_.hash;
    return true;
  }

 private:
  std::chrono::milliseconds save_delay_;
  std::mutex mu_;
  CheckerState st_;
};

// The on-disk kind: sync() writes the whole state to `path` atomically
// (temporary file, fsync, rename, fsync of the directory); open() reads it
// back and reports its index.
class OnDiskCheckerSM : public IOnDiskStateMachine {
 public:
  OnDiskCheckerSM(std::string dir, uint64_t cluster_id, uint64_t node_id,
                  std::chrono::milliseconds save_delay = {})
      : dir_(std::move(dir)),
        path_(dir_ + "/checker-" + std::to_string(cluster_id) + "-" + std::to_string(node_id) + ".state"),
        save_delay_(save_delay) {}
  Status open(const StopSignal&, uint64_t* applied) override {
    std::lock_guard<std::mutex> g(mu_);
    std::string data;
    FILE* f = std::fopen(path_.c_str(), "rb");
    if (f) {
      char buf[16 << 10];
      for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) data.append(buf, n);
      std::fclose(f);
      if (!st_.decode(data)) return Status(ErrorCode::kCorrupted, "checker: bad state file " + path_);
    }
    *applied = st_.index;
    return Status::OK();
  }
  Status update(std::vector<SMEntry>* entries) override {
    std::lock_guard<std::mutex> g(mu_);
    for (SMEntry& e : *entries) {
      e.result.value = st_.apply(e.cmd);
      st_.index = e.index;
    }
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    std::lock_guard<std::mutex> g(mu_);
    return st_.lookup(q, a);
  }
  Status sync() override {
    std::lock_guard<std::mutex> g(mu_);
    return persist();
  }
  Status prepare_snapshot(std::string* ctx) override {
    std::lock_guard<std::mutex> g(mu_);
    *ctx = st_.encode();
    return Status::OK();
  }
  Status save_snapshot(const std::string& ctx, ISnapshotWriter* w) override {
    std::this_thread::sleep_for(save_delay_);
    return write_all(w, ctx);
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::lock_guard<std::mutex> g(mu_);
    Status s = recover_state(r, &st_);
    return s.ok() ? persist() : s;
  }
  bool hash(uint64_t* out) override {
    std::lock_guard<std::mutex> g(mu_);
    *out = st_.hash;
    return true;
  }

 private:
  Status persist() {  // REQUIRES: mu_
    std::string data = st_.encode();
    std::string tmp = path_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return Status(ErrorCode::kFatal, "checker: cannot create " + tmp);
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) return Status(ErrorCode::kFatal, "checker: cannot write " + path_);
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
    return Status::OK();
  }

  std::string dir_, path_;
  std::chrono::milliseconds save_delay_;
  std::mutex mu_;
  CheckerState st_;
};

}  // namespace dragonboat::testing
