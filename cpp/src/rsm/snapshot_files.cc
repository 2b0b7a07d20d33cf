#include "rsm/snapshot_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/bytes.h"
#include "common/file_io.h"

namespace dragonboat::rsm {

namespace {

constexpr size_t kCopyChunk = 1 << 20;
// Bounds a damaged section cannot exceed before it sizes anything.
constexpr uint64_t kMaxFiles = 1 << 20;
constexpr uint64_t kMaxMetadata = 64 << 20;

Status corrupt(const std::string& what) { return Status(ErrorCode::kCorrupted, "snapshot files section: " + what); }

Status read_u64(snapshot::SnapshotReader* r, uint64_t* v, const char* what) {
  char b[8];
  Status s = r->read_exact(b, sizeof b, what);
  if (s.ok()) *v = bytes::get_u64(b);
  return s;
}

// Closes fd on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Status SnapshotFileList::add(uint64_t file_id, const std::string& path, std::string_view metadata) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status(ErrorCode::kInvalidOperation, "add_file: " + path + " is not a regular file");
  }
  for (const SnapshotFile& f : files_) {
    if (f.file_id == file_id) {
      return Status(ErrorCode::kInvalidOperation, "add_file: file ID " + std::to_string(file_id) + " added twice");
    }
  }
  if (metadata.size() > kMaxMetadata) {
    return Status(ErrorCode::kInvalidOperation, "add_file: metadata of " + std::to_string(metadata.size()) +
                                                    " bytes exceeds " + std::to_string(kMaxMetadata));
  }
  files_.push_back(SnapshotFile{file_id, path, std::string(metadata)});
  return Status::OK();
}

Status write_files_section(snapshot::SnapshotBuilder* b, const std::vector<SnapshotFile>& files) {
  std::string head;
  bytes::append_u64(&head, files.size());
  Status s = b->write(head.data(), head.size());
  std::vector<char> buf(kCopyChunk);
  for (const SnapshotFile& f : files) {
    if (!s.ok()) return s;
    Fd in;
    in.fd = ::open(f.filepath.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in.fd < 0 || ::fstat(in.fd, &st) != 0) return io::io_error("open", f.filepath, errno);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    head.clear();
    bytes::append_u64(&head, f.file_id);
    bytes::append_u64_prefixed(&head, f.metadata);
    bytes::append_u64(&head, size);
    s = b->write(head.data(), head.size());
    for (uint64_t left = size; s.ok() && left > 0;) {
      size_t got = 0;
      s = io::read_full(in.fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())), &got, f.filepath);
      if (s.ok() && got == 0) {
        s = Status(ErrorCode::kInvalidOperation,
                   "snapshot file " + f.filepath + " shrank while the snapshot was taken: leave it alone until save_snapshot returns");
      }
      if (s.ok()) s = b->write(buf.data(), got);
      left -= got;
    }
  }
  return s;
}

Status extract_files_section(snapshot::SnapshotReader* r, const std::string& dir, std::vector<SnapshotFile>* files) {
  files->clear();
  Status s = io::remove_tree(dir);
  if (s.ok()) s = io::ensure_dir(dir);
  if (!s.ok()) return s;
  uint64_t count = 0;
  s = read_u64(r, &count, "the file count");
  if (!s.ok()) return s;
  if (count > kMaxFiles) return corrupt(std::to_string(count) + " files");
  std::set<uint64_t> ids;
  std::vector<char> buf(kCopyChunk);
  for (uint64_t i = 0; i < count; ++i) {
    SnapshotFile f;
    uint64_t meta_len = 0, size = 0;
    s = read_u64(r, &f.file_id, "a file header");
    if (s.ok()) s = read_u64(r, &meta_len, "a file header");
    if (!s.ok()) return s;
    if (meta_len > kMaxMetadata) return corrupt("metadata of " + std::to_string(meta_len) + " bytes");
    if (!ids.insert(f.file_id).second) return corrupt("file ID " + std::to_string(f.file_id) + " twice");
    f.metadata.resize(static_cast<size_t>(meta_len));
    s = r->read_exact(f.metadata.data(), f.metadata.size(), "a file's metadata");
    if (s.ok()) s = read_u64(r, &size, "a file header");
    if (!s.ok()) return s;
    f.filepath = dir + "/" + std::to_string(f.file_id);
    Fd out;
    s = io::create_file(f.filepath, &out.fd);
    for (uint64_t left = size; s.ok() && left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      s = r->read_exact(buf.data(), n, "a file's bytes");
      if (s.ok()) s = io::write_all(out.fd, buf.data(), n, f.filepath);
      left -= n;
    }
    if (s.ok()) s = io::close_fd(&out.fd, f.filepath);
    if (!s.ok()) return s;
    files->push_back(std::move(f));
  }
  return Status::OK();
}

}  // namespace dragonboat::rsm
