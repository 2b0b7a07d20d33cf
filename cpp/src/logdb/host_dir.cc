#include "logdb/host_dir.h"

#include "common/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace dragonboat::logdb {
namespace {

// Flag file: "key=value" lines, then "checksum=<xxh3 of the lines above>".
std::string render(const HostDirInfo& i) {
  std::ostringstream s;
  s << "format_version=" << i.format_version << "\n"
    << "raft_address=" << i.raft_address << "\n"
    << "deployment_id=" << i.deployment_id << "\n"
    << "logdb_type=" << i.logdb_type << "\n"
    << "logdb_shards=" << i.logdb_shards << "\n";
  std::string body = s.str();
  return body + "checksum=" + std::to_string(XXH3_64bits(body.data(), body.size())) + "\n";
}

Status sys_error(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kFatal, what + " " + path + ": " + std::strerror(errno));
}

// Written to a temporary name, synced, renamed over the flag file and the
// directory synced: a power cut leaves the old flag file or the new one.
Status write_flag(const std::string& dir, const HostDirInfo& info) {
  std::string tmp = dir + "/" + HostDir::kFlagFile + ".tmp";
  std::string final_path = dir + "/" + HostDir::kFlagFile;
  std::string content = render(info);
  int fd = -1;
  Status s = io::create_file(tmp, &fd);
  if (!s.ok()) return s;
  s = io::write_all(fd, content.data(), content.size(), tmp);
  if (s.ok()) s = io::fsync_fd(fd, tmp);
  Status c = io::close_fd(&fd, tmp);
  if (!s.ok() || !c.ok()) return s.ok() ? c : s;
  s = io::rename_path(tmp, final_path);
  if (!s.ok()) return s;
  return io::fsync_dir(dir);
}

}  // namespace

Status read_host_dir_info(const std::string& dir, HostDirInfo* out) {
  std::string path = dir + "/" + HostDir::kFlagFile;
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kDirNotExist, "no flag file at " + path);
  std::map<std::string, std::string> kv;
  std::string line, body;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) return Status(ErrorCode::kCorrupted, "malformed flag file " + path);
    std::string k = line.substr(0, eq);
    kv[k] = line.substr(eq + 1);
    if (k != "checksum") body += line + "\n";
  }
  if (!kv.count("checksum") || kv["checksum"] != std::to_string(XXH3_64bits(body.data(), body.size()))) {
    return Status(ErrorCode::kCorrupted, "flag file " + path + " fails its checksum");
  }
  try {
    out->format_version = std::stoull(kv.at("format_version"));
    out->raft_address = kv.at("raft_address");
    out->deployment_id = std::stoull(kv.at("deployment_id"));
    out->logdb_type = kv.at("logdb_type");
    out->logdb_shards = std::stoull(kv.at("logdb_shards"));
  } catch (const std::exception&) {
    return Status(ErrorCode::kCorrupted, "flag file " + path + " lacks a field");
  }
  return Status::OK();
}

Status HostDir::open(const std::string& dir, const HostDirInfo& expected, std::unique_ptr<HostDir>* out) {
  // ensure_dir fsyncs the parent of each directory it makes: the directory
  // itself survives a power cut once anything in it was acknowledged.
  Status made = io::ensure_dir(dir);
  if (!made.ok()) return Status(ErrorCode::kDirNotExist, "cannot create " + dir + ": " + made.message());
  std::string lock_path = dir + "/" + kLockFile;
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("open", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status(ErrorCode::kLockDirectory, "directory " + dir + " is in use by another process or NodeHost");
  }
  std::unique_ptr<HostDir> h(new HostDir(dir, expected, fd));
  HostDirInfo found;
  Status s = read_host_dir_info(dir, &found);
  if (s.code() == ErrorCode::kDirNotExist) {
    s = write_flag(dir, expected);
    if (!s.ok()) return s;
    *out = std::move(h);
    return Status::OK();
  }
  if (!s.ok()) return s;
  auto mismatch = [&](ErrorCode c, const std::string& what, const std::string& had, const std::string& want) {
    return Status(c, "directory " + dir + " was created with " + what + " " + had + ", not " + want);
  };
  if (found.format_version != expected.format_version) {
    return mismatch(ErrorCode::kIncompatibleData, "format version", std::to_string(found.format_version),
                    std::to_string(expected.format_version));
  }
  if (found.raft_address != expected.raft_address) {
    return mismatch(ErrorCode::kNotOwner, "raft address", found.raft_address, expected.raft_address);
  }
  if (found.deployment_id != expected.deployment_id) {
    return mismatch(ErrorCode::kDeploymentIDChanged, "deployment ID", std::to_string(found.deployment_id),
                    std::to_string(expected.deployment_id));
  }
  if (found.logdb_type != expected.logdb_type || found.logdb_shards != expected.logdb_shards) {
    return mismatch(ErrorCode::kHardSettingsChanged, "LogDB",
                    found.logdb_type + " x" + std::to_string(found.logdb_shards),
                    expected.logdb_type + " x" + std::to_string(expected.logdb_shards));
  }
  *out = std::move(h);
  return Status::OK();
}

HostDir::~HostDir() {
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
  }
}

}  // namespace dragonboat::logdb
