#include "common/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

namespace dragonboat::io {
namespace {

std::atomic<FileObserver*> g_observer{nullptr};

// The observer's verdict on a change (OK when none is installed).
Status before(Change c, const std::string& path) {
  FileObserver* o = g_observer.load(std::memory_order_acquire);
  return o == nullptr ? Status::OK() : o->before(c, path);
}

template <typename F>
void notify(F&& f) {
  if (FileObserver* o = g_observer.load(std::memory_order_acquire)) f(o);
}

Status raw_fsync(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    return io_error("fsync", path, errno);
  }
  return Status::OK();
}

}  // namespace

void set_file_observer(FileObserver* observer) { g_observer.store(observer, std::memory_order_release); }

Status io_error(const char* op, const std::string& path, int err) {
  return Status(ErrorCode::kFatal, std::string(op) + " " + path + ": " +
                                       std::error_code(err, std::generic_category()).message() +
                                       " (errno " + std::to_string(err) + ")");
}

Status write_all(int fd, const void* data, size_t n, const std::string& path) {
  Status s = before(Change::kWrite, path);
  if (!s.ok()) return s;
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path, errno);
    }
    if (w == 0) return io_error("write", path, EIO);  // no progress: treat as an I/O error
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

Status read_full(int fd, void* buf, size_t n, size_t* got, const std::string& path) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, p + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      *got = done;
      return io_error("read", path, errno);
    }
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
  }
  *got = done;
  return Status::OK();
}

Status pread_full(int fd, void* buf, size_t n, uint64_t offset, size_t* got,
                  const std::string& path) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *got = done;
      return io_error("read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *got = done;
  return Status::OK();
}

Status create_file(const std::string& path, int* fd) {
  Status s = before(Change::kCreate, path);
  if (!s.ok()) return s;
  *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (*fd < 0) return io_error("create", path, errno);
  notify([&](FileObserver* o) { o->created(path); });
  return Status::OK();
}

Status make_dir(const std::string& path) {
  Status s = before(Change::kCreate, path);
  if (!s.ok()) return s;
  if (::mkdir(path.c_str(), 0755) != 0) return io_error("mkdir", path, errno);
  notify([&](FileObserver* o) { o->created(path); });
  return Status::OK();
}

Status rename_path(const std::string& from, const std::string& to) {
  FileObserver* o = g_observer.load(std::memory_order_acquire);
  Status s = o == nullptr ? Status::OK() : o->before_rename(from, to);
  if (!s.ok()) return s;
  if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename", from + " -> " + to, errno);
  notify([&](FileObserver* o) { o->renamed(from, to); });
  return Status::OK();
}

Status fsync_fd(int fd, const std::string& path) {
  Status s = before(Change::kSync, path);
  if (s.ok()) s = raw_fsync(fd, path);
  if (s.ok()) notify([&](FileObserver* o) { o->synced_file(path); });
  return s;
}

Status fsync_dir(const std::string& dir) {
  Status s = before(Change::kSync, dir);
  if (!s.ok()) return s;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir, errno);
  s = raw_fsync(fd, dir);
  Status c = close_fd(&fd, dir);
  if (s.ok() && c.ok()) notify([&](FileObserver* o) { o->synced_dir(dir); });
  return s.ok() ? c : s;
}

Status close_fd(int* fd, const std::string& path) {
  if (*fd < 0) return Status::OK();
  int rc = ::close(*fd);
  *fd = -1;
  if (rc != 0 && errno != EINTR) return io_error("close", path, errno);
  return Status::OK();
}

std::string parent_dir(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;  // ignore trailing slashes
  size_t slash = path.rfind('/', end - 1);
  if (slash == std::string::npos) return ".";
  while (slash > 0 && path[slash - 1] == '/') --slash;
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ensure_dir(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status(ErrorCode::kFatal, "ensure directory " + dir + ": exists and is not a directory");
  }
  if (errno != ENOENT) return io_error("stat", dir, errno);
  std::string parent = parent_dir(dir);
  if (parent != dir) {
    Status s = ensure_dir(parent);
    if (!s.ok()) return s;
  }
  Status s = make_dir(dir);
  if (!s.ok()) {
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();  // made concurrently
    return s;
  }
  return fsync_dir(parent);
}

Status remove_tree(const std::string& path) {
  Status s = before(Change::kRemove, path);
  if (!s.ok()) return s;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return Status(ErrorCode::kFatal, "remove " + path + ": " + ec.message() + " (errno " +
                                         std::to_string(ec.value()) + ")");
  }
  return Status::OK();
}

}  // namespace dragonboat::io
