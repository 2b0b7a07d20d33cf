// logdb/host_dir.h — ownership of a NodeHost data directory.
//
// A NodeHost directory records, in a flag file written on first use, the
// settings that must never change under existing data: the raft address that
// owns it, the deployment ID, the LogDB type and shard count, and the data
// format version. Every open checks them and refuses a mismatch with a named
// error instead of silently misreading data. An exclusive lock (flock on
// LOCK) refuses a directory already in use by another process or NodeHost.
// Thread-safety: a HostDir is immutable after open; the lock is released
// when it is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dragonboat/status.h"

namespace dragonboat::logdb {

struct HostDirInfo {
  std::string raft_address;
  uint64_t deployment_id = 0;
  std::string logdb_type = "rocksdb";
  uint64_t logdb_shards = 2;
  uint64_t format_version = 2;  // of every on-disk format under the directory (2: entry batches)
};

class HostDir {
 public:
  // Creates `dir` if needed, takes the lock, then writes the flag file (first
  // use) or checks it: kLockDirectory (in use), kNotOwner (other address),
  // kDeploymentIDChanged, kHardSettingsChanged (LogDB type/shards),
  // kIncompatibleData (format version), kCorrupted (damaged flag file).
  static Status open(const std::string& dir, const HostDirInfo& expected, std::unique_ptr<HostDir>* out);
  ~HostDir();
  HostDir(const HostDir&) = delete;
  HostDir& operator=(const HostDir&) = delete;

  const std::string& path() const { return dir_; }
  const HostDirInfo& info() const { return info_; }

  // File names inside the directory.
  static constexpr const char* kFlagFile = "dragonboat.flag";
  static constexpr const char* kLockFile = "LOCK";

 private:
  HostDir(std::string dir, HostDirInfo info, int lock_fd)
      : dir_(std::move(dir)), info_(std::move(info)), lock_fd_(lock_fd) {}
  std::string dir_;
  HostDirInfo info_;
  int lock_fd_;
};

// Reads a flag file without locking (for tools such as `dragonboat info`).
Status read_host_dir_info(const std::string& dir, HostDirInfo* out);

}  // namespace dragonboat::logdb
