#include "rsm/snapshotter.h"

#include <algorithm>
#include <vector>

#include "common/bytes.h"
#include "common/file_io.h"
#include "rsm/snapshot_files.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::rsm {
namespace {

constexpr uint8_t kPayloadV1 = 1;            // full: session table + state machine
constexpr uint8_t kPayloadMetadataOnly = 2;  // session table only
// full with external files: session table + files section + state machine
// (rsm/snapshot_files.h), so recovery has the files before the first byte.
constexpr uint8_t kPayloadWithFiles = 3;

class BuilderWriter : public ISnapshotWriter {
 public:
  BuilderWriter(snapshot::SnapshotBuilder* b, const std::atomic<bool>* stopped) : b_(b), stopped_(stopped) {}
  Status write(const void* data, size_t size) override { return b_->write(data, size); }
  bool stopped() const override { return stopped_ && stopped_->load(); }
  Status add_file(uint64_t file_id, const std::string& path, std::string_view metadata) override {
    return files_.add(file_id, path, metadata);
  }
  const std::vector<SnapshotFile>& files() const { return files_.files(); }

 private:
  snapshot::SnapshotBuilder* b_;
  const std::atomic<bool>* stopped_;
  SnapshotFileList files_;
};

class FileReader : public ISnapshotReader {
 public:
  FileReader(snapshot::SnapshotReader* r, const std::atomic<bool>* stopped, const std::vector<SnapshotFile>* files)
      : r_(r), stopped_(stopped), files_(files) {}
  Status read(void* buf, size_t size, size_t* got) override { return r_->read(buf, size, got); }
  bool stopped() const override { return stopped_ && stopped_->load(); }
  const std::vector<SnapshotFile>& files() const override { return *files_; }

 private:
  snapshot::SnapshotReader* r_;
  const std::atomic<bool>* stopped_;
  const std::vector<SnapshotFile>* files_;
};

// Opens the data file at `path` and reads the payload header: its kind and
// the size of the session table that follows.
Status open_payload(const std::string& path, std::unique_ptr<snapshot::SnapshotReader>* r, uint8_t* kind,
                    uint64_t* table_size) {
  Status s = snapshot::SnapshotReader::open(path, r);
  if (!s.ok()) return s;
  unsigned char header[9];
  s = (*r)->read_exact(header, sizeof(header), "its header");
  if (!s.ok()) return s;
  *kind = header[0];
  uint64_t n = bytes::get_u64(header + 1);
  if (n > (1ull << 32)) return Status(ErrorCode::kCorrupted, "session table size " + std::to_string(n) + " in " + path);
  *table_size = n;
  return Status::OK();
}

// The payload so far is [kind 1][table][state machine bytes]; with files it
// must be [kind 3][table][files section][state machine bytes]. Sets the data
// file aside and writes it again in that order: the state machine's bytes
// are copied once, and only for snapshots with files (the state machine
// attaches them during its save, after the payload began).
Status put_files_first(snapshot::SnapshotBuilder* b, const std::string& table, const std::vector<SnapshotFile>& files) {
  std::string aside;
  Status s = b->set_aside(&aside);
  if (!s.ok()) return s;
  std::string header(1, static_cast<char>(kPayloadWithFiles));
  bytes::append_u64(&header, table.size());
  s = b->write(header.data(), header.size());
  if (s.ok()) s = b->write(table.data(), table.size());
  if (s.ok()) s = write_files_section(b, files);
  std::unique_ptr<snapshot::SnapshotReader> r;
  if (s.ok()) s = snapshot::SnapshotReader::open(aside, &r);
  std::vector<char> buf(1 << 20);
  for (uint64_t skip = 9 + table.size(); s.ok() && skip > 0;) {  // the old header and table
    size_t got = 0;
    s = r->read(buf.data(), static_cast<size_t>(std::min<uint64_t>(skip, buf.size())), &got);
    if (s.ok() && got == 0) s = Status(ErrorCode::kFatal, "set-aside snapshot payload " + aside + " ends early");
    skip -= got;
  }
  for (size_t got = 1; s.ok() && got > 0;) {
    s = r->read(buf.data(), buf.size(), &got);
    if (s.ok() && got > 0) s = b->write(buf.data(), got);
  }
  r.reset();
  if (s.ok()) s = io::remove_tree(aside);
  return s;
}

}  // namespace

Status save_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                     uint64_t term, ManagedSM* sm, const SessionManager& sessions,
                     snapshot::SnapshotMeta* meta) {
  std::string ctx;
  Status s = sm->prepare_snapshot(&ctx);
  if (!s.ok()) return s;
  return save_prepared_snapshot(root, cluster_id, node_id, index, term, sm, ctx, sessions.encode(), meta);
}

Status save_prepared_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                              uint64_t term, ManagedSM* sm, const std::string& ctx,
                              const std::string& table, snapshot::SnapshotMeta* meta,
                              const std::atomic<bool>* stopped, uint64_t synced_index,
                              snapshot::Compression compression) {
  snapshot::SnapshotMeta id;
  id.cluster_id = cluster_id;
  id.node_id = node_id;
  id.index = index;
  id.term = term;
  std::unique_ptr<snapshot::SnapshotBuilder> b;
  snapshot::WriterOptions options;
  options.compression = compression;
  Status s = snapshot::SnapshotBuilder::begin(root, id, options, &b);
  if (!s.ok()) return s;
  std::string header(1, static_cast<char>(sm ? kPayloadV1 : kPayloadMetadataOnly));
  bytes::append_u64(&header, table.size());
  s = b->write(header.data(), header.size());
  if (s.ok()) s = b->write(table.data(), table.size());
  if (s.ok() && !sm) {
    std::string synced;
    bytes::append_u64(&synced, synced_index);
    s = b->write(synced.data(), synced.size());
  }
  BuilderWriter w(b.get(), stopped);
  if (s.ok() && sm) s = sm->save_snapshot(ctx, &w);
  if (s.ok() && w.stopped()) s = Status(ErrorCode::kCanceled, "the node stopped during the snapshot save");
  if (s.ok() && !w.files().empty()) s = put_files_first(b.get(), table, w.files());
  if (s.ok()) s = b->commit(meta);
  if (!s.ok()) (void)b->abort();
  return s;
}

Status recover_snapshot(const std::string& path, ManagedSM* sm, SessionManager* sessions,
                        const std::atomic<bool>* stopped) {
  std::unique_ptr<snapshot::SnapshotReader> r;
  uint8_t kind = 0;
  uint64_t n = 0;
  Status s = open_payload(path, &r, &kind, &n);
  if (!s.ok()) return s;
  if (kind == kPayloadMetadataOnly) {
    return Status(ErrorCode::kNoSnapshot, path + " is a metadata-only snapshot: it holds no state machine data");
  }
  if (kind != kPayloadV1 && kind != kPayloadWithFiles) {
    return Status(ErrorCode::kIncompatibleData, "snapshot payload version " + std::to_string(kind));
  }
  std::string table(n, '\0');
  s = r->read_exact(table.data(), n, "its session table");
  if (!s.ok()) return s;
  SessionManager restored(sessions->max_sessions());
  s = restored.decode(table);
  if (!s.ok()) return s;
  // External files go to a scratch directory beside the data file, there
  // while the state machine recovers (it copies or links what it keeps).
  std::vector<SnapshotFile> files;
  const std::string files_dir = io::parent_dir(path) + "/files.recovering";
  if (kind == kPayloadWithFiles) {
    s = extract_files_section(r.get(), files_dir, &files);
    if (!s.ok()) {
      (void)io::remove_tree(files_dir);
      return s;
    }
  }
  FileReader fr(r.get(), stopped, &files);
  s = sm->recover_from_snapshot(&fr);
  if (kind == kPayloadWithFiles) (void)io::remove_tree(files_dir);  // best effort: it is scratch
  if (!s.ok()) return s;
  // Drain: the reader verifies the tail only when the payload is consumed.
  char sink[4096];
  for (size_t got = 1; got > 0;) {
    s = r->read(sink, sizeof(sink), &got);
    if (!s.ok()) return s;
  }
  *sessions = std::move(restored);
  return Status::OK();
}

Status read_metadata_only_snapshot(const std::string& path, uint64_t* synced_index) {
  std::unique_ptr<snapshot::SnapshotReader> r;
  uint8_t kind = 0;
  uint64_t n = 0;
  Status s = open_payload(path, &r, &kind, &n);
  if (!s.ok()) return s;
  if (kind != kPayloadMetadataOnly) return Status(ErrorCode::kInvalidOperation, path + " is a full snapshot");
  std::string rest;
  char buf[4096];
  for (size_t got = 1; got > 0;) {  // to the end: the reader verifies the tail
    s = r->read(buf, sizeof(buf), &got);
    if (!s.ok()) return s;
    rest.append(buf, got);
  }
  if (rest.size() == n + 8) {
    *synced_index = bytes::get_u64(rest.data() + n);
  } else if (rest.size() != n) {
    return Status(ErrorCode::kCorrupted, "metadata-only snapshot " + path + " has " + std::to_string(rest.size()) +
                                             " payload bytes after its header for a " + std::to_string(n) +
                                             "-byte session table");
  }
  return Status::OK();
}

Status save_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                     uint64_t term, IStateMachine* sm, const SessionManager& sessions,
                     snapshot::SnapshotMeta* meta) {
  return save_snapshot(root, cluster_id, node_id, index, term, ManagedSM::borrow(sm).get(), sessions, meta);
}

Status recover_snapshot(const std::string& path, IStateMachine* sm, SessionManager* sessions) {
  return recover_snapshot(path, ManagedSM::borrow(sm).get(), sessions);
}

}  // namespace dragonboat::rsm
