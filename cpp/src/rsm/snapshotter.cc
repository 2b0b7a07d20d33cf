#include "rsm/snapshotter.h"

#include "common/bytes.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::rsm {
namespace {

constexpr uint8_t kPayloadV1 = 1;            // full: session table + state machine
constexpr uint8_t kPayloadMetadataOnly = 2;  // session table only

class BuilderWriter : public ISnapshotWriter {
 public:
  BuilderWriter(snapshot::SnapshotBuilder* b, const std::atomic<bool>* stopped) : b_(b), stopped_(stopped) {}
  Status write(const void* data, size_t size) override { return b_->write(data, size); }
  bool stopped() const override { return stopped_ && stopped_->load(); }

 private:
  snapshot::SnapshotBuilder* b_;
  const std::atomic<bool>* stopped_;
};

class FileReader : public ISnapshotReader {
 public:
  FileReader(snapshot::SnapshotReader* r, const std::atomic<bool>* stopped) : r_(r), stopped_(stopped) {}
  Status read(void* buf, size_t size, size_t* got) override { return r_->read(buf, size, got); }
  bool stopped() const override { return stopped_ && stopped_->load(); }

 private:
  snapshot::SnapshotReader* r_;
  const std::atomic<bool>* stopped_;
};

Status read_exact(snapshot::SnapshotReader* r, void* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t got = 0;
    Status s = r->read(static_cast<char*>(buf) + done, n - done, &got);
    if (!s.ok()) return s;
    if (got == 0) return Status(ErrorCode::kCorrupted, "snapshot payload ends inside its header");
    done += got;
  }
  return Status::OK();
}

// Opens the data file at `path` and reads the payload header: its kind and
// the size of the session table that follows.
Status open_payload(const std::string& path, std::unique_ptr<snapshot::SnapshotReader>* r, uint8_t* kind,
                    uint64_t* table_size) {
  Status s = snapshot::SnapshotReader::open(path, r);
  if (!s.ok()) return s;
  unsigned char header[9];
  s = read_exact(r->get(), header, sizeof(header));
  if (!s.ok()) return s;
  *kind = header[0];
  uint64_t n = bytes::get_u64(header + 1);
  if (n > (1ull << 32)) return Status(ErrorCode::kCorrupted, "session table size " + std::to_string(n) + " in " + path);
  *table_size = n;
  return Status::OK();
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
  if (kind != kPayloadV1) return Status(ErrorCode::kIncompatibleData, "snapshot payload version " + std::to_string(kind));
  std::string table(n, '\0');
  s = read_exact(r.get(), table.data(), n);
  if (!s.ok()) return s;
  SessionManager restored(sessions->max_sessions());
  s = restored.decode(table);
  if (!s.ok()) return s;
  FileReader fr(r.get(), stopped);
  s = sm->recover_from_snapshot(&fr);
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
