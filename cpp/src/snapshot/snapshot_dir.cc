#include "snapshot/snapshot_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/bytes.h"
#include "common/file_io.h"

namespace dragonboat::snapshot {

namespace fs = std::filesystem;

bool operator==(const SnapshotMeta& a, const SnapshotMeta& b) {
  return a.cluster_id == b.cluster_id && a.node_id == b.node_id && a.index == b.index &&
         a.term == b.term && a.file_size == b.file_size && a.payload_size == b.payload_size &&
         a.data_checksum == b.data_checksum;
}

// ---- names ------------------------------------------------------------------

namespace {

constexpr const char kDirPrefix[] = "snapshot-";
constexpr size_t kDirPrefixLen = sizeof(kDirPrefix) - 1;
constexpr size_t kHexDigits = 16;

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// Calls visit(name) for the name of each of `root`'s entries, in sorted
// order, stopping at the first error it returns. An absent root has none.
template <typename Visit>
Status for_each_name(const std::string& root, Visit visit) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return Status::OK();
    return Status(ErrorCode::kFatal, "list directory " + root + ": " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Status(ErrorCode::kFatal, "list directory " + root + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    Status s = visit(name);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::string snapshot_dir_name(uint64_t index) {
  char buf[kDirPrefixLen + kHexDigits + 1];
  std::snprintf(buf, sizeof buf, "%s%016" PRIX64, kDirPrefix, index);
  return buf;
}

bool parse_snapshot_dir_name(const std::string& name, uint64_t* index) {
  if (name.size() != kDirPrefixLen + kHexDigits) return false;
  if (name.compare(0, kDirPrefixLen, kDirPrefix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = kDirPrefixLen; i < name.size(); ++i) {
    const char c = name[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *index = v;
  return true;
}

std::string snapshot_dir(const std::string& root, uint64_t index) {
  return join(root, snapshot_dir_name(index));
}

std::string temp_snapshot_dir(const std::string& root, uint64_t index, TempKind kind) {
  return snapshot_dir(root, index) +
         (kind == TempKind::kGenerating ? kGeneratingSuffix : kReceivingSuffix);
}

std::string data_file_path(const std::string& dir, uint64_t index) {
  return join(dir, snapshot_dir_name(index) + kDataFileSuffix);
}

std::string meta_file_path(const std::string& dir) { return join(dir, kMetaFileName); }

// ---- the flag file ----------------------------------------------------------

void encode_meta(const SnapshotMeta& m, uint8_t out[kMetaFileSize]) {
  std::memset(out, 0, kMetaFileSize);
  bytes::put_u64(out + 0, kMetaMagic);
  bytes::put_u32(out + 8, kMetaVersion);
  bytes::put_u32(out + 12, 0);  // reserved
  bytes::put_u64(out + 16, m.cluster_id);
  bytes::put_u64(out + 24, m.node_id);
  bytes::put_u64(out + 32, m.index);
  bytes::put_u64(out + 40, m.term);
  bytes::put_u64(out + 48, m.file_size);
  bytes::put_u64(out + 56, m.payload_size);
  bytes::put_u64(out + 64, m.data_checksum);
  bytes::put_u64(out + 72, XXH3_64bits(out, 72));
}

Status decode_meta(const uint8_t* data, size_t n, const std::string& path, SnapshotMeta* meta) {
  auto bad = [&](const std::string& what) {
    return Status(ErrorCode::kCorrupted, "corrupt snapshot flag file " + path + ": " + what);
  };
  if (n != kMetaFileSize) {
    return bad("size " + std::to_string(n) + " bytes, expected " + std::to_string(kMetaFileSize));
  }
  if (bytes::get_u64(data + 0) != kMetaMagic) return bad("bad magic");
  if (bytes::get_u64(data + 72) != XXH3_64bits(data, 72)) return bad("checksum mismatch");
  if (bytes::get_u32(data + 8) != kMetaVersion) {
    return bad("unsupported version " + std::to_string(bytes::get_u32(data + 8)));
  }
  if (bytes::get_u32(data + 12) != 0) return bad("nonzero reserved field");
  SnapshotMeta m;
  m.cluster_id = bytes::get_u64(data + 16);
  m.node_id = bytes::get_u64(data + 24);
  m.index = bytes::get_u64(data + 32);
  m.term = bytes::get_u64(data + 40);
  m.file_size = bytes::get_u64(data + 48);
  m.payload_size = bytes::get_u64(data + 56);
  m.data_checksum = bytes::get_u64(data + 64);
  *meta = m;
  return Status::OK();
}

Status write_meta_file(const std::string& path, const SnapshotMeta& meta) {
  uint8_t bytes[kMetaFileSize];
  encode_meta(meta, bytes);
  int fd = -1;
  Status s = io::create_file(path, &fd);
  if (!s.ok()) return s;
  s = io::write_all(fd, bytes, sizeof bytes, path);
  if (s.ok()) s = io::fsync_fd(fd, path);
  Status c = io::close_fd(&fd, path);
  return s.ok() ? c : s;
}

Status read_meta_file(const std::string& path, SnapshotMeta* meta) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status(ErrorCode::kNoSnapshot, "snapshot flag file " + path + " does not exist");
    }
    return io::io_error("open", path, errno);
  }
  uint8_t bytes[kMetaFileSize + 1];  // one extra byte detects a longer file
  size_t got = 0;
  Status s = io::read_full(fd, bytes, sizeof bytes, &got, path);
  ::close(fd);
  if (!s.ok()) return s;
  return decode_meta(bytes, got, path, meta);
}

// ---- the protocol -----------------------------------------------------------

Status create_temp_dir(const std::string& root, uint64_t index, TempKind kind, std::string* dir) {
  Status s = io::ensure_dir(root);
  if (!s.ok()) return s;
  const std::string d = temp_snapshot_dir(root, index, kind);
  s = io::remove_tree(d);
  if (!s.ok()) return s;
  s = io::make_dir(d);
  if (!s.ok()) return s;
  s = io::fsync_dir(root);
  if (!s.ok()) return s;
  *dir = d;
  return Status::OK();
}

Status commit_snapshot_dir(const std::string& root, const std::string& temp_dir,
                           const SnapshotMeta& meta) {
  const std::string data = data_file_path(temp_dir, meta.index);
  struct stat st;
  if (::stat(data.c_str(), &st) != 0) return io::io_error("stat", data, errno);
  if (static_cast<uint64_t>(st.st_size) != meta.file_size) {
    return Status(ErrorCode::kInvalidOperation,
                  "commit snapshot " + temp_dir + ": data file has " +
                      std::to_string(st.st_size) + " bytes, the metadata says " +
                      std::to_string(meta.file_size));
  }
  const std::string final_dir = snapshot_dir(root, meta.index);
  if (::lstat(final_dir.c_str(), &st) == 0) {
    return Status(ErrorCode::kRejected,
                  "commit snapshot " + temp_dir + ": " + final_dir + " already exists");
  } else if (errno != ENOENT) {
    return io::io_error("stat", final_dir, errno);
  }
  Status s = write_meta_file(meta_file_path(temp_dir), meta);
  if (!s.ok()) return s;
  s = io::fsync_dir(temp_dir);
  if (!s.ok()) return s;
  s = io::rename_path(temp_dir, final_dir);
  if (!s.ok()) return s;
  return io::fsync_dir(root);
}

Status remove_orphans(const std::string& root, std::vector<std::string>* removed) {
  bool any = false;
  Status s = for_each_name(root, [&](const std::string& name) {
    if (name.compare(0, kDirPrefixLen, kDirPrefix) != 0) return Status::OK();
    if (!ends_with(name, kGeneratingSuffix) && !ends_with(name, kReceivingSuffix) &&
        !ends_with(name, kDeletingSuffix)) {
      return Status::OK();
    }
    Status r = io::remove_tree(join(root, name));
    if (!r.ok()) return r;
    any = true;
    if (removed != nullptr) removed->push_back(name);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return any ? io::fsync_dir(root) : Status::OK();
}

Status list_snapshots(const std::string& root, std::vector<SnapshotMeta>* out,
                      std::vector<std::string>* incomplete) {
  out->clear();
  Status s = for_each_name(root, [&](const std::string& name) {
    uint64_t index = 0;
    if (!parse_snapshot_dir_name(name, &index)) return Status::OK();
    const std::string dir = join(root, name);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Status::OK();
    SnapshotMeta meta;
    Status r = read_meta_file(meta_file_path(dir), &meta);
    bool complete = false;
    if (r.ok() && meta.index == index) {
      const std::string data = data_file_path(dir, index);
      complete = ::stat(data.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                 static_cast<uint64_t>(st.st_size) == meta.file_size;
    } else if (!r.ok() && r.code() == ErrorCode::kFatal) {
      return r;  // an I/O error, not an incomplete snapshot
    }
    if (complete) {
      out->push_back(meta);
    } else if (incomplete != nullptr) {
      incomplete->push_back(name);
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  std::sort(out->begin(), out->end(),
            [](const SnapshotMeta& a, const SnapshotMeta& b) { return a.index < b.index; });
  return Status::OK();
}

Status latest_snapshot(const std::string& root, SnapshotMeta* out) {
  std::vector<SnapshotMeta> all;
  Status s = list_snapshots(root, &all);
  if (!s.ok()) return s;
  if (all.empty()) return Status(ErrorCode::kNoSnapshot, "no complete snapshot in " + root);
  *out = all.back();
  return Status::OK();
}

Status remove_snapshot(const std::string& root, uint64_t index) {
  const std::string dir = snapshot_dir(root, index);
  const std::string doomed = dir + kDeletingSuffix;
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return io::io_error("stat", dir, errno);
  }
  Status s = io::rename_path(dir, doomed);
  if (s.ok()) s = io::fsync_dir(root);
  if (s.ok()) s = io::remove_tree(doomed);
  if (s.ok()) s = io::fsync_dir(root);
  return s;
}

Status remove_snapshots_before(const std::string& root, uint64_t index,
                               std::vector<uint64_t>* removed) {
  return for_each_name(root, [&](const std::string& name) {
    uint64_t i = 0;
    if (!parse_snapshot_dir_name(name, &i) || i >= index) return Status::OK();
    Status s = remove_snapshot(root, i);
    if (s.ok() && removed != nullptr) removed->push_back(i);
    return s;
  });
}

// ---- SnapshotBuilder --------------------------------------------------------

SnapshotBuilder::SnapshotBuilder(std::string root, const SnapshotMeta& id, std::string temp_dir,
                                 const WriterOptions& options, std::unique_ptr<SnapshotWriter> writer)
    : root_(std::move(root)), id_(id), options_(options), temp_dir_(std::move(temp_dir)), writer_(std::move(writer)) {}

Status SnapshotBuilder::begin(const std::string& root, const SnapshotMeta& id,
                              const WriterOptions& options,
                              std::unique_ptr<SnapshotBuilder>* out) {
  std::string dir;
  Status s = create_temp_dir(root, id.index, TempKind::kGenerating, &dir);
  if (!s.ok()) return s;
  std::unique_ptr<SnapshotWriter> w;
  s = SnapshotWriter::create(data_file_path(dir, id.index), options, &w);
  if (!s.ok()) {
    (void)io::remove_tree(dir);  // best effort; remove_orphans catches the rest
    return s;
  }
  SnapshotMeta m;
  m.cluster_id = id.cluster_id;
  m.node_id = id.node_id;
  m.index = id.index;
  m.term = id.term;
  out->reset(new SnapshotBuilder(root, m, dir, options, std::move(w)));
  return Status::OK();
}

SnapshotBuilder::~SnapshotBuilder() { (void)abort(); }

Status SnapshotBuilder::write(const void* data, size_t n) {
  if (committed_ || aborted_) {
    return Status(ErrorCode::kInvalidOperation,
                  "snapshot builder " + temp_dir_ + ": already committed or aborted");
  }
  return writer_->write(data, n);
}

Status SnapshotBuilder::commit(SnapshotMeta* meta) {
  if (committed_ || aborted_) {
    return Status(ErrorCode::kInvalidOperation,
                  "snapshot builder " + temp_dir_ + ": already committed or aborted");
  }
  // A commit() retried after a failed directory step must not finish twice.
  if (!writer_->finished()) {
    Status s = writer_->finish();
    if (!s.ok()) return s;
  }
  const DataFileInfo& info = writer_->info();
  SnapshotMeta m = id_;
  m.file_size = info.file_size;
  m.payload_size = info.payload_size;
  m.data_checksum = info.data_checksum;
  Status s = commit_snapshot_dir(root_, temp_dir_, m);
  if (!s.ok()) return s;
  committed_ = true;
  writer_.reset();
  if (meta != nullptr) *meta = m;
  return Status::OK();
}

Status publish_received(const std::string& root, const std::string& temp_dir, SnapshotMeta* meta) {
  DataFileInfo info;
  Status s = validate_file(data_file_path(temp_dir, meta->index), &info);
  if (!s.ok()) return Status(s.code(), "received snapshot fails verification: " + s.message());
  meta->file_size = info.file_size;
  meta->payload_size = info.payload_size;
  meta->data_checksum = info.data_checksum;
  s = write_meta_file(meta_file_path(temp_dir), *meta);
  if (s.ok()) s = commit_snapshot_dir(root, temp_dir, *meta);
  if (s.code() == ErrorCode::kRejected) {  // a retry of a snapshot already held
    (void)io::remove_tree(temp_dir);
    return Status::OK();
  }
  return s;
}

Status SnapshotBuilder::set_aside(std::string* path) {
  if (committed_ || aborted_) {
    return Status(ErrorCode::kInvalidOperation,
                  "snapshot builder " + temp_dir_ + ": already committed or aborted");
  }
  Status s = writer_->finish();
  if (!s.ok()) return s;
  writer_.reset();
  const std::string data = data_file_path(temp_dir_, id_.index);
  const std::string aside = temp_dir_ + "/payload.aside";
  s = io::rename_path(data, aside);
  if (!s.ok()) return s;
  s = SnapshotWriter::create(data, options_, &writer_);
  if (!s.ok()) return s;
  *path = aside;
  return Status::OK();
}

Status SnapshotBuilder::abort() {
  if (committed_ || aborted_) return Status::OK();
  aborted_ = true;
  writer_.reset();  // closes the data file
  Status s = io::remove_tree(temp_dir_);
  if (s.ok()) s = io::fsync_dir(root_);
  return s;
}

}  // namespace dragonboat::snapshot
