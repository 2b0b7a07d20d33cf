// sim/interaction.h — a scriptable cluster of Raft cores for data-driven
// interaction tests. Each command mutates the cluster and returns the text
// of what happened (messages delivered, updates processed); transcripts
// under tests/cpp/testdata/interaction/ pair commands with expected text.
//
// Commands (ids are node IDs; "all" where a list is accepted):
//   cluster voters=1,2,3 [pre_vote=0|1] [check_quorum=0|1] [ordered=0|1]
//           [quiesce=N] [max_in_mem=N] [election=N] [heartbeat=N] [max_bytes=N] [inflight=N]
//   add-node ID [observer|witness]      start an empty node that joins later
//   tick IDS [N]                        N ticks (default 1), no processing
//   campaign ID                         the node's election timeout fires
//   propose ID DATA...                  one entry per DATA word
//   propose-cc ID add|remove|add-observer|add-witness NODE [ccid=N]
//   read ID CTX                         ReadIndex with context CTX
//   transfer ID TARGET                  leader transfer request at ID
//   process IDS                         carry out pending updates
//   deliver [IDS]                       deliver queued messages (to IDS)
//   stabilize                           process + deliver until quiet
//   isolate ID / cut A B / heal         network partitions (drop on delivery)
//   crash ID / restart ID               lose volatile state / relaunch
//   snapshot ID / compact ID INDEX      local snapshot, log compaction
//   unreachable ID REMOTE               transport feedback
//   status [IDS] / log ID               inspect
//   membership [IDS]                    config change ID and members
#pragma once

#include <string>
#include <vector>

namespace dragonboat::sim {

class InteractionCluster {
 public:
  InteractionCluster();
  ~InteractionCluster();
  // Runs one command line; returns its output lines.
  std::vector<std::string> run(const std::string& command);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace dragonboat::sim
