// common/file_io.h — thin POSIX file helpers for every file the engine
// writes itself (snapshot files and directories, the host directory's flag
// file; RocksDB writes the LogDB through its own FileSystem): full writes and
// reads that retry on EINTR and short transfers, creation, rename and fsync of
// files and directories, and I/O errors turned into Status values that name
// the operation, the path and the system error.
//
// Every call that changes what a disk holds goes through here so that a test
// can install a FileObserver and simulate a power cut: it sees each creation,
// rename and fsync, and can fail any change (tests/cpp/power_loss_fs.h).
//
// Thread-safety: free functions; safe from any thread (as safe as the file
// descriptors passed to them). The observer is process-wide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dragonboat/status.h"

namespace dragonboat::io {

// What a change to the disk is, as seen by a FileObserver.
enum class Change { kWrite, kSync, kCreate, kRemove };

// Watches the engine's own file changes (a test's power-loss simulator; none
// is installed in production). Calls come from any engine thread.
class FileObserver {
 public:
  virtual ~FileObserver() = default;
  // Before `change` of `path`: a non-OK status fails the operation with that
  // status and nothing is changed (the simulated machine has lost power).
  virtual Status before(Change change, const std::string& path) = 0;
  // Before renaming `from` to `to` (which may exist and be replaced); a
  // non-OK status fails the rename.
  virtual Status before_rename(const std::string& from, const std::string& to) = 0;
  // After a file or directory `path` was created (an entry in its parent).
  virtual void created(const std::string& path) = 0;
  // After fsync of the file `path` succeeded: its bytes so far are durable.
  virtual void synced_file(const std::string& path) = 0;
  // After fsync of the directory `dir` succeeded: its entries are durable.
  virtual void synced_dir(const std::string& dir) = 0;
  // After `from` was renamed to `to`.
  virtual void renamed(const std::string& from, const std::string& to) = 0;
};

// Installs the process-wide observer (nullptr removes it). The caller keeps
// it alive until it is removed and no engine thread can be writing.
void set_file_observer(FileObserver* observer);

// kFatal "<op> <path>: <system message> (errno N)" for a failed system call.
Status io_error(const char* op, const std::string& path, int err);

// Writes all n bytes at the current offset of fd. kFatal on any failure
// (including ENOSPC, EDQUOT, EFBIG, EIO).
Status write_all(int fd, const void* data, size_t n, const std::string& path);

// Reads up to n bytes from the current offset of fd into buf; *got < n only
// at end of file. kFatal on a read error.
Status read_full(int fd, void* buf, size_t n, size_t* got, const std::string& path);

// As read_full, at file offset `offset` (the fd offset is not used or moved).
Status pread_full(int fd, void* buf, size_t n, uint64_t offset, size_t* got,
                  const std::string& path);

// Creates (or truncates) the regular file `path` for writing; *fd is the
// descriptor. The new entry is durable only after fsync_dir of its parent.
Status create_file(const std::string& path, int* fd);

// Creates the directory `path` (its parent must exist); kFatal when it exists
// or cannot be made. Durable only after fsync_dir of its parent.
Status make_dir(const std::string& path);

// rename(2); durable only after fsync_dir of the parent(s).
Status rename_path(const std::string& from, const std::string& to);

// fsync(2) of an open file. kFatal on failure.
Status fsync_fd(int fd, const std::string& path);

// Opens the directory `dir`, fsyncs it (making creations, renames and
// removals of its entries durable) and closes it. kFatal on failure.
Status fsync_dir(const std::string& dir);

// Closes *fd (if >= 0) and sets it to -1. kFatal when close(2) reports an
// error (it can report a deferred write error). EINTR is not retried: the
// descriptor is released either way on Linux.
Status close_fd(int* fd, const std::string& path);

// Creates `dir` and any missing parents, fsyncing the parent of every
// directory it creates. OK if it already exists as a directory.
Status ensure_dir(const std::string& dir);

// Removes `path` recursively (a file or a directory tree); OK if absent.
// Does not fsync the parent.
Status remove_tree(const std::string& path);

// The directory part of a path ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace dragonboat::io
