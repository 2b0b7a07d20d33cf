// rsm/snapshot_files.h — the external files of a snapshot (the reference's
// ISnapshotFileCollection / SnapshotFile) inside its data file.
//
// A state machine attaches files during save_snapshot
// (ISnapshotWriter::add_file); they are copied into the snapshot's data
// file, ahead of the state machine's bytes, so the one checksummed file
// carries them wherever the snapshot goes (published, streamed to a
// follower, exported). Recovery extracts them to a scratch directory that
// exists while recover_from_snapshot runs (ISnapshotReader::files).
//
// Files section (every integer little-endian u64; docs/storage.md):
//
//   count | count x ( file_id | metadata length | metadata | size | bytes )
//
// Thread-safety: the group's snapshot path only.
#pragma once

#include <string>
#include <vector>

#include "dragonboat/statemachine.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::rsm {

// The files a save attached, checked as they are added.
class SnapshotFileList {
 public:
  // kInvalidOperation when `path` is not a regular file or `file_id` was
  // already added; nothing is added then.
  Status add(uint64_t file_id, const std::string& path, std::string_view metadata);
  const std::vector<SnapshotFile>& files() const { return files_; }

 private:
  std::vector<SnapshotFile> files_;
};

// Writes the files section for `files` into `b`, copying each file's bytes.
// A file whose size changed since it was added fails the save
// (kInvalidOperation): the state machine must leave them alone until
// save_snapshot returns.
Status write_files_section(snapshot::SnapshotBuilder* b, const std::vector<SnapshotFile>& files);

// Reads a files section from `r` and writes each file to `dir`/<file_id>
// (the directory is emptied first). *files gets them with their new paths.
// kCorrupted for a section that is malformed or ends early.
Status extract_files_section(snapshot::SnapshotReader* r, const std::string& dir, std::vector<SnapshotFile>* files);

}  // namespace dragonboat::rsm
