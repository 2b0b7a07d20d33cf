// snapshot/file_io.h — thin POSIX file helpers shared by the snapshot code:
// full writes and reads that retry on EINTR and short transfers, fsync of
// files and directories, and I/O errors turned into Status values that name
// the operation, the path and the system error.
//
// Thread-safety: free functions without shared state; safe from any thread
// (as safe as the file descriptors passed to them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dragonboat/status.h"

namespace dragonboat::snapshot::io {

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

}  // namespace dragonboat::snapshot::io
