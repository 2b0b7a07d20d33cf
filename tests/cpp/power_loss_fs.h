// power_loss_fs.h — a simulated power cut for the files of one or more
// "machines" (directory roots) in this process.
//
// `kill -9` keeps the page cache: everything a process wrote survives it,
// synced or not. A power cut keeps only what was made durable:
//   - a file's bytes up to its last fsync (bytes after it are lost, or torn:
//     kept up to a random byte);
//   - a directory entry (a created file or directory, a rename) only after an
//     fsync of the directory holding it; an entry that was not is gone, a
//     rename that was not is undone (the old target comes back).
// PowerLossFS tracks both, for RocksDB (as a rocksdb::FileSystem, installed
// with logdb::set_env_override) and for the engine's own files (snapshots,
// the flag file; as an io::FileObserver, installed with
// io::set_file_observer). RocksDB's own crash tests do the same with their
// fault-injection file system; this one is written here.
//
// Use: add_machine(root) before the machine's NodeHost starts; power_off(root)
// at the cut (every later change under root fails, as a dead disk would);
// destroy the NodeHost; crash(root, rng) rewrites the disk to what the cut
// left and powers the machine on again.
//
// Not modelled: removals that were not made durable (a removed file never
// comes back), writes at offsets below a file's durable size (the engine and
// RocksDB only append), and RocksDB's RangeSync (treated as no sync).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/io_status.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_io.h"

namespace dragonboat::test {

class PowerLossFS : public rocksdb::FileSystemWrapper, public io::FileObserver {
 public:
  // What one crash() did to the disk.
  struct CrashReport {
    uint64_t files_cut = 0;         // files that lost unsynced bytes
    uint64_t files_torn = 0;        // ... of which kept a random part of them
    uint64_t bytes_lost = 0;        // unsynced bytes dropped
    uint64_t entries_removed = 0;   // files/directories whose creation was not durable
    uint64_t renames_undone = 0;    // renames that were not durable
  };

  PowerLossFS() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "DragonboatPowerLossFS"; }

  // Tracks files under `root` (a directory; need not exist yet), powered on.
  void add_machine(const std::string& root) {
    std::lock_guard<std::mutex> g(mu_);
    powered_[norm(root)] = true;
  }

  // The cut: from now on every change under root fails with an I/O error.
  void power_off(const std::string& root) {
    std::lock_guard<std::mutex> g(mu_);
    powered_[norm(root)] = false;
  }

  // Rewrites root's files to what the power cut left (call when nothing
  // writes there any more), forgets their history and powers root on.
  // `tear_percent`: the chance, per file with unsynced bytes, that a random
  // part of them survives instead of none.
  CrashReport crash(const std::string& root_path, std::mt19937_64& rng, int tear_percent) {
    std::lock_guard<std::mutex> g(mu_);
    const std::string root = norm(root_path);
    CrashReport r;
    // 1. Undo renames not made durable, newest first; the replaced target
    //    (if any) comes back with its old content.
    for (auto it = renames_.rbegin(); it != renames_.rend(); ++it) {
      if (!under(it->to, root)) continue;
      std::error_code ec;
      std::filesystem::rename(it->to, it->from, ec);
      move_tracked(it->to, it->from);
      if (it->old_target) write_file(it->to, *it->old_target);
      ++r.renames_undone;
    }
    renames_.erase(std::remove_if(renames_.begin(), renames_.end(),
                                  [&](const Rename& x) { return under(x.to, root); }),
                   renames_.end());
    // 2. Remove entries whose creation was not made durable.
    for (const std::string& p : new_entries_) {
      if (!under(p, root)) continue;
      std::error_code ec;
      if (std::filesystem::remove_all(p, ec) > 0) ++r.entries_removed;
      forget_under(p);
    }
    new_entries_.erase(std::remove_if(new_entries_.begin(), new_entries_.end(),
                                      [&](const std::string& p) { return under(p, root); }),
                       new_entries_.end());
    // 3. Cut every file back to its durable size, or tear it.
    for (auto it = durable_.begin(); it != durable_.end();) {
      if (!under(it->first, root)) {
        ++it;
        continue;
      }
      struct stat st;
      if (::stat(it->first.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > it->second) {
        const uint64_t size = static_cast<uint64_t>(st.st_size);
        uint64_t keep = it->second;
        if (static_cast<int>(rng() % 100) < tear_percent) {
          keep += rng() % (size - it->second);
          ++r.files_torn;
        }
        if (::truncate(it->first.c_str(), static_cast<off_t>(keep)) == 0) {
          ++r.files_cut;
          r.bytes_lost += size - keep;
        }
      }
      it = durable_.erase(it);
    }
    powered_[root] = true;
    return r;
  }

  // ---- io::FileObserver: the engine's own files ----------------------------
  Status before(io::Change, const std::string& path) override {
    std::lock_guard<std::mutex> g(mu_);
    if (!is_powered(norm(path))) return Status(ErrorCode::kFatal, "simulated power cut: " + path);
    return Status::OK();
  }
  Status before_rename(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> g(mu_);
    if (!is_powered(norm(from))) return Status(ErrorCode::kFatal, "simulated power cut: " + from);
    note_rename(norm(from), norm(to));
    return Status::OK();
  }
  void created(const std::string& path) override {
    std::lock_guard<std::mutex> g(mu_);
    note_created(norm(path));
  }
  void synced_file(const std::string& path) override {
    std::lock_guard<std::mutex> g(mu_);
    note_synced(norm(path), file_size(path));
  }
  void synced_dir(const std::string& dir) override {
    std::lock_guard<std::mutex> g(mu_);
    note_dir_synced(norm(dir));
  }
  void renamed(const std::string&, const std::string&) override {}  // noted in before_rename

  // ---- rocksdb::FileSystem: the LogDB's files ------------------------------
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = check(f);
    if (!s.ok()) return s;
    const bool existed = exists(f);
    s = target()->NewWritableFile(f, o, r, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!existed) note_created(norm(f));
      durable_[norm(f)] = 0;  // truncated: nothing of it is durable yet
    }
    r->reset(new File(std::move(*r), this, f));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = check(f);
    if (!s.ok()) return s;
    const bool existed = exists(f);
    s = target()->ReopenWritableFile(f, o, r, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!existed) note_created(norm(f));
      durable_.emplace(norm(f), existed ? file_size(f) : 0);  // keeps a tracked file's durable size
    }
    r->reset(new File(std::move(*r), this, f));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string&, const rocksdb::FileOptions&,
                                      std::unique_ptr<rocksdb::FSWritableFile>*,
                                      rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("PowerLossFS: WAL recycling", f);
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>*,
                                    rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("PowerLossFS: random-write files", f);
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io,
                                 std::unique_ptr<rocksdb::FSDirectory>* r, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, io, r, dbg);
    if (s.ok()) r->reset(new Directory(std::move(*r), this, name));
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& io,
                               rocksdb::IODebugContext* dbg) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!is_powered(norm(from))) return power_error(from);
      note_rename(norm(from), norm(to));
    }
    return target()->RenameFile(from, to, io, dbg);
  }
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& io,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = check(f);
    if (!s.ok()) return s;
    s = target()->DeleteFile(f, io, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> g(mu_);
      forget_under(norm(f));
    }
    return s;
  }
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& io,
                              rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = check(d);
    if (!s.ok()) return s;
    s = target()->CreateDir(d, io, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> g(mu_);
      note_created(norm(d));
    }
    return s;
  }
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& io,
                                       rocksdb::IODebugContext* dbg) override {
    if (exists(d)) return rocksdb::IOStatus::OK();
    return CreateDir(d, io, dbg);
  }
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& io,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = check(f);
    return s.ok() ? target()->Truncate(f, size, io, dbg) : s;
  }
  rocksdb::IOStatus LinkFile(const std::string& f, const std::string&, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("PowerLossFS: hard links", f);
  }

 private:
  struct Rename {
    std::string from, to;
    std::optional<std::string> old_target;  // content of the file `to` replaced
  };

  // A writable file: appends pass through (power permitting); a sync makes
  // the bytes written before it began durable. The real fsync is skipped: the
  // simulated disk is the model, and 1,000 cuts must fit in a test.
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, PowerLossFS* fs, std::string name)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::Append(d, o, dbg) : s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::Append(d, o, v, dbg) : s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, dbg) : s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off, const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& v,
                                       rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, v, dbg) : s;
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::Truncate(size, o, dbg) : s;
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->check(name_);
      return s.ok() ? FSWritableFileOwnerWrapper::Flush(o, dbg) : s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override { return sync(o, dbg); }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override { return sync(o, dbg); }
    rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      return fs_->check(name_);
    }

   private:
    rocksdb::IOStatus sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) {
      // Bytes reach the kernel at Append (PosixWritableFile does not buffer);
      // a flush first covers a file type that does.
      rocksdb::IOStatus s = fs_->check(name_);
      if (s.ok()) s = FSWritableFileOwnerWrapper::Flush(o, dbg);
      if (!s.ok()) return s;
      const uint64_t size = file_size(name_);
      // Durable only if the power is still on when the sync returns.
      std::lock_guard<std::mutex> g(fs_->mu_);
      if (!fs_->is_powered(norm(name_))) return power_error(name_);
      fs_->note_synced(norm(name_), size);
      return rocksdb::IOStatus::OK();
    }
    PowerLossFS* fs_;
    std::string name_;
  };

  class Directory : public rocksdb::FSDirectoryWrapper {
   public:
    Directory(std::unique_ptr<rocksdb::FSDirectory>&& d, PowerLossFS* fs, std::string name)
        : FSDirectoryWrapper(std::move(d)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return sync(); }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions&, rocksdb::IODebugContext*,
                                          const rocksdb::DirFsyncOptions&) override {
      return sync();
    }

   private:
    rocksdb::IOStatus sync() {
      std::lock_guard<std::mutex> g(fs_->mu_);
      if (!fs_->is_powered(norm(name_))) return power_error(name_);
      fs_->note_dir_synced(norm(name_));
      return rocksdb::IOStatus::OK();
    }
    PowerLossFS* fs_;
    std::string name_;
  };

  static std::string norm(const std::string& p) {
    std::string s = std::filesystem::path(p).lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  }
  static std::string parent(const std::string& p) { return std::filesystem::path(p).parent_path().string(); }
  static bool under(const std::string& p, const std::string& root) {
    return p == root || (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && p[root.size()] == '/');
  }
  static bool exists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
  }
  static uint64_t file_size(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  static std::optional<std::string> read_file(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void write_file(const std::string& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  static rocksdb::IOStatus power_error(const std::string& p) {
    return rocksdb::IOStatus::IOError("simulated power cut", p);
  }

  // The machine holding path is powered (paths of no machine always are).
  bool is_powered(const std::string& path) const {
    for (const auto& [root, on] : powered_) {
      if (under(path, root)) return on;
    }
    return true;
  }
  rocksdb::IOStatus check(const std::string& path) {
    std::lock_guard<std::mutex> g(mu_);
    return is_powered(norm(path)) ? rocksdb::IOStatus::OK() : power_error(path);
  }
  bool tracked(const std::string& p) const {
    for (const auto& [root, on] : powered_) {
      if (under(p, root)) return true;
    }
    return false;
  }

  void note_created(const std::string& p) {
    if (tracked(p)) new_entries_.push_back(p);
  }
  void note_synced(const std::string& p, uint64_t size) {
    if (!tracked(p)) return;
    uint64_t& d = durable_[p];
    d = std::max(d, size);
  }
  // Entries (creations, renames into it) of `dir` are durable now.
  void note_dir_synced(const std::string& dir) {
    new_entries_.erase(std::remove_if(new_entries_.begin(), new_entries_.end(),
                                      [&](const std::string& p) { return parent(p) == dir; }),
                       new_entries_.end());
    renames_.erase(std::remove_if(renames_.begin(), renames_.end(),
                                  [&](const Rename& r) { return parent(r.to) == dir; }),
                   renames_.end());
  }
  void note_rename(const std::string& from, const std::string& to) {
    if (!tracked(to)) return;
    Rename r{from, to, std::nullopt};
    struct stat st;
    if (::stat(to.c_str(), &st) == 0 && S_ISREG(st.st_mode)) r.old_target = read_file(to);
    renames_.push_back(std::move(r));
    move_tracked(from, to);
  }
  // Moves the history of `from` (a file or a whole directory) to `to`.
  void move_tracked(const std::string& from, const std::string& to) {
    std::map<std::string, uint64_t> moved;
    for (auto it = durable_.begin(); it != durable_.end();) {
      if (under(it->first, from)) {
        moved[to + it->first.substr(from.size())] = it->second;
        it = durable_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [p, d] : moved) durable_[p] = d;
    for (std::string& p : new_entries_) {
      if (under(p, from) && p != from) p = to + p.substr(from.size());
    }
  }
  void forget_under(const std::string& p) {
    for (auto it = durable_.begin(); it != durable_.end();) {
      it = under(it->first, p) ? durable_.erase(it) : std::next(it);
    }
    new_entries_.erase(std::remove_if(new_entries_.begin(), new_entries_.end(),
                                      [&](const std::string& e) { return under(e, p) && e != p; }),
                       new_entries_.end());
  }

  std::mutex mu_;
  std::map<std::string, bool> powered_;          // machine root -> power on
  std::map<std::string, uint64_t> durable_;      // tracked file -> durable bytes
  std::vector<std::string> new_entries_;         // created, parent not synced since
  std::vector<Rename> renames_;                  // renamed, parent of `to` not synced since
};

}  // namespace dragonboat::test
