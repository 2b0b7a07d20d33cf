// snapshot/snapshot_dir.h — the directory protocol that makes a snapshot
// appear atomically and survive crashes (docs/storage.md, "Snapshot files").
//
// `root` is the snapshot directory of one (cluster, node); the engine picks
// it. The snapshot at log index I lives in
//
//   <root>/snapshot-<I as 16 upper-case hex digits>/
//       snapshot-<I hex>.gbsnap   the data file (snapshot/snapshot_file.h)
//       snapshot.meta             the flag file: its valid presence marks completion
//
// and comes into being as follows:
//   1. create <root>/snapshot-<I>.generating/ (or .receiving/ when a snapshot
//      streams in from the leader), fsync <root>;
//   2. write the data file and fsync it;
//   3. write the flag file (index, term, sizes, data checksum, own checksum)
//      and fsync it;
//   4. fsync the temporary directory;
//   5. rename it to <root>/snapshot-<I>/ and fsync <root>.
// A crash leaves either a temporary directory (removed at start-up by
// remove_orphans) or a complete snapshot. Removal renames a snapshot to
// snapshot-<I>.deleting first, so a crash during removal never leaves a
// half-removed directory under a complete name.
//
// Thread-safety: the functions keep no state, but calls on the same root must
// not overlap (the engine runs at most one snapshot operation per group at a
// time). A SnapshotBuilder is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/status.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::snapshot {

// What the flag file of a complete snapshot records.
struct SnapshotMeta {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  uint64_t index = 0;          // log index the snapshot covers
  uint64_t term = 0;           // term of that entry
  uint64_t file_size = 0;      // size in bytes of the data file
  uint64_t payload_size = 0;   // payload bytes in the data file (uncompressed)
  uint64_t data_checksum = 0;  // the data file's digest of block checksums (DataFileInfo)
};

bool operator==(const SnapshotMeta& a, const SnapshotMeta& b);

// Kinds of temporary directory: one the local node is writing, one a
// snapshot from the leader is streamed into (the transport).
enum class TempKind { kGenerating, kReceiving };

inline constexpr const char* kGeneratingSuffix = ".generating";
inline constexpr const char* kReceivingSuffix = ".receiving";
inline constexpr const char* kDeletingSuffix = ".deleting";
inline constexpr const char* kMetaFileName = "snapshot.meta";
inline constexpr const char* kDataFileSuffix = ".gbsnap";

// Flag file layout: 80 bytes, every integer little-endian.
inline constexpr uint64_t kMetaMagic = 0x4154454D47415244ULL;  // "DRAGMETA"
inline constexpr uint32_t kMetaVersion = 1;
inline constexpr size_t kMetaFileSize = 80;

// ---- names ------------------------------------------------------------------

// "snapshot-00000000000000FF" for index 255.
std::string snapshot_dir_name(uint64_t index);
// Parses a name of exactly the form snapshot_dir_name() makes; false for
// anything else.
bool parse_snapshot_dir_name(const std::string& name, uint64_t* index);
// <root>/snapshot-<index>
std::string snapshot_dir(const std::string& root, uint64_t index);
// <root>/snapshot-<index>.generating or .receiving
std::string temp_snapshot_dir(const std::string& root, uint64_t index, TempKind kind);
// <dir>/snapshot-<index>.gbsnap
std::string data_file_path(const std::string& dir, uint64_t index);
// <dir>/snapshot.meta
std::string meta_file_path(const std::string& dir);

// ---- the flag file ----------------------------------------------------------

// Encodes `meta` as the kMetaFileSize bytes of a flag file.
void encode_meta(const SnapshotMeta& meta, uint8_t out[kMetaFileSize]);
// Decodes and verifies (magic, version, reserved, checksum) a flag file's
// bytes; `path` is only used in messages. kCorrupted on any mismatch.
Status decode_meta(const uint8_t* data, size_t n, const std::string& path, SnapshotMeta* meta);
// Creates the file at `path`, writes `meta`, fsyncs and closes it. kFatal on
// I/O errors.
Status write_meta_file(const std::string& path, const SnapshotMeta& meta);
// Reads and verifies a flag file. kNoSnapshot if absent, kCorrupted if it
// fails verification, kFatal on other I/O errors.
Status read_meta_file(const std::string& path, SnapshotMeta* meta);

// ---- the protocol -----------------------------------------------------------

// Creates an empty temporary directory for snapshot `index` (steps 1 of the
// protocol): creates `root` if missing, removes any leftover directory of
// the same name, makes the new one and fsyncs `root`. *dir gets its path.
Status create_temp_dir(const std::string& root, uint64_t index, TempKind kind, std::string* dir);

// Steps 3 to 5 for a temporary directory whose data file is complete and
// fsynced: checks the data file exists with meta.file_size bytes, writes and
// fsyncs the flag file, fsyncs `temp_dir`, renames it to
// snapshot_dir(root, meta.index) and fsyncs `root`. kRejected when that
// snapshot already exists; on any failure `temp_dir` is left in place for the
// caller (or the next remove_orphans) to remove.
Status commit_snapshot_dir(const std::string& root, const std::string& temp_dir,
                           const SnapshotMeta& meta);

// The receiving end's steps 3 to 5 for a temporary directory holding a
// received, fsynced data file: verifies every block (kCorrupted otherwise),
// fills *meta's sizes and checksum (its IDs, index and term are the
// sender's), writes the flag file and publishes the directory. A snapshot
// already held at that index is kept and `temp_dir` removed: OK, a retry.
Status publish_received(const std::string& root, const std::string& temp_dir, SnapshotMeta* meta);

// Start-up clean-up: removes every <root>/snapshot-*.generating, .receiving
// and .deleting entry, then fsyncs `root`. Appends the removed names to
// *removed if given. OK if `root` does not exist.
Status remove_orphans(const std::string& root, std::vector<std::string>* removed = nullptr);

// The complete snapshots under `root`, ascending by index: directories named
// snapshot-<16 hex> whose flag file is valid, records the same index, and
// whose data file exists with the recorded size. Blocks are not verified here
// (recovery streams the file through a SnapshotReader, which verifies all).
// Names of snapshot-<hex> directories that fail these checks are appended to
// *incomplete if given. OK (and empty) if `root` does not exist.
Status list_snapshots(const std::string& root, std::vector<SnapshotMeta>* out,
                      std::vector<std::string>* incomplete = nullptr);

// The complete snapshot with the highest index; kNoSnapshot if none.
Status latest_snapshot(const std::string& root, SnapshotMeta* out);

// Removes snapshot `index` (rename to .deleting, fsync root, remove, fsync
// root). OK if it does not exist.
Status remove_snapshot(const std::string& root, uint64_t index);

// Removes every snapshot-<hex> directory under `root` whose index is below
// `index` (complete or not). Appends the removed indexes to *removed if
// given.
Status remove_snapshots_before(const std::string& root, uint64_t index,
                               std::vector<uint64_t>* removed = nullptr);

// ---- the writing side in one object -------------------------------------------

// Saves a snapshot through the whole protocol: begin() creates the
// .generating directory and the data file, write() streams the payload,
// commit() finishes the data file and publishes the directory. Destroying an
// uncommitted builder removes its temporary directory.
class SnapshotBuilder {
 public:
  // Starts snapshot `id.index` under `root`; cluster_id, node_id, index and
  // term are taken from `id` (the size and checksum fields are ignored).
  static Status begin(const std::string& root, const SnapshotMeta& id,
                      const WriterOptions& options, std::unique_ptr<SnapshotBuilder>* out);

  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Appends payload bytes to the data file (SnapshotWriter::write).
  Status write(const void* data, size_t n);

  // Finishes and fsyncs the data file, then commit_snapshot_dir(). On success
  // *meta (if given) gets what the flag file records. On failure the
  // temporary directory stays until abort() or destruction.
  Status commit(SnapshotMeta* meta = nullptr);

  // Gives up: closes the data file and removes the temporary directory.
  // No-op after a successful commit().
  Status abort();

  // Finishes the data file written so far, moves it aside within the
  // temporary directory (*path gets where) and starts an empty data file
  // with the same options: for a payload that must be composed again in
  // another order (a snapshot with external files puts them first). The
  // caller reads the set-aside file, writes the new payload and removes it
  // before commit().
  Status set_aside(std::string* path);

  // The temporary directory; other files of the snapshot (e.g. external
  // files of an on-disk state machine) may be placed here before commit().
  const std::string& temp_dir() const { return temp_dir_; }
  // Where the snapshot will live once committed.
  std::string final_dir() const { return snapshot_dir(root_, id_.index); }

 private:
  SnapshotBuilder(std::string root, const SnapshotMeta& id, std::string temp_dir, const WriterOptions& options,
                  std::unique_ptr<SnapshotWriter> writer);

  std::string root_;
  SnapshotMeta id_;
  WriterOptions options_;
  std::string temp_dir_;
  std::unique_ptr<SnapshotWriter> writer_;
  bool committed_ = false;
  bool aborted_ = false;
};

}  // namespace dragonboat::snapshot
