// transport/receive_snapshot.cc — raftio::receive_snapshot_file: what any
// transport does with a snapshot data file that reached the target's host
// (dragonboat/raftio.h). The TCP transport writes chunks into the same kind
// of temporary directory and publishes it the same way
// (snapshot::publish_received).
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "common/file_io.h"
#include "dragonboat/raftio.h"
#include "snapshot/snapshot_dir.h"

namespace dragonboat::raftio {

namespace {

// Copies `from` into the new file `to` and fsyncs it.
Status copy_file(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return io::io_error("open", from, errno);
  int out = -1;
  Status s = io::create_file(to, &out);
  std::vector<char> buf(1 << 20);
  for (size_t got = 1; s.ok() && got > 0;) {
    s = io::read_full(in, buf.data(), buf.size(), &got, from);
    if (s.ok() && got > 0) s = io::write_all(out, buf.data(), got, to);
  }
  if (s.ok()) s = io::fsync_fd(out, to);
  Status c = io::close_fd(&out, to);
  ::close(in);
  return s.ok() ? c : s;
}

}  // namespace

Status receive_snapshot_file(const std::string& snapshot_dir, const raftpb::Message& m, const std::string& source,
                             std::string* path) {
  const uint64_t index = m.snapshot.index;
  const std::string root = snapshot_dir + "/" + std::to_string(m.cluster_id) + "-" + std::to_string(m.to);
  std::string tmp;
  Status s = snapshot::create_temp_dir(root, index, snapshot::TempKind::kReceiving, &tmp);
  if (!s.ok()) return s;
  s = copy_file(source, snapshot::data_file_path(tmp, index));
  snapshot::SnapshotMeta meta{m.cluster_id, m.to, index, m.snapshot.term, 0, 0, 0};
  if (s.ok()) s = snapshot::publish_received(root, tmp, &meta);
  if (!s.ok()) {
    (void)io::remove_tree(tmp);  // a half-received snapshot never stays
    return s;
  }
  *path = snapshot::data_file_path(snapshot::snapshot_dir(root, index), index);
  return Status::OK();
}

}  // namespace dragonboat::raftio
