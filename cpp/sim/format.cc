#include "sim/format.h"

#include <sstream>

namespace dragonboat::sim {

using raft::EntryType;
using raft::MessageType;

std::string format_entry(const raft::Entry& e) {
  std::ostringstream s;
  s << e.term << "/" << e.index << " ";
  switch (e.type) {
    case EntryType::kApplication:
      if (e.cmd.empty()) {
        s << "noop";
      } else {
        s << "\"" << e.cmd.view() << "\"";
      }
      break;
    case EntryType::kMetadata: s << "meta"; break;
    case EntryType::kEncodedApplication: s << "encoded(" << e.cmd.size() << " bytes)"; break;
    case EntryType::kConfigChange: {
      raft::ConfigChange cc;
      if (!raft::decode_config_change(e.cmd, &cc)) {
        s << "cc?";
        break;
      }
      static const char* kinds[] = {"add", "remove", "add-observer", "add-witness"};
      s << "cc:" << kinds[static_cast<int>(cc.type)] << "(" << cc.node_id << ")";
      if (cc.config_change_id) s << "@" << cc.config_change_id;
      break;
    }
  }
  return s.str();
}

std::string format_message(const raft::Message& m) {
  std::ostringstream s;
  s << m.from << "->" << m.to << " " << raft::message_type_name(m.type) << " term=" << m.term;
  switch (m.type) {
    case MessageType::kReplicate:
      s << " prev=" << m.log_term << "/" << m.log_index << " commit=" << m.commit;
      if (!m.entries.empty()) {
        s << " [";
        for (size_t i = 0; i < m.entries.size(); ++i) s << (i ? ", " : "") << format_entry(m.entries[i]);
        s << "]";
      }
      break;
    case MessageType::kReplicateResp:
      s << " index=" << m.log_index;
      if (m.reject) s << " reject hint=" << m.log_term << "/" << m.hint;
      break;
    case MessageType::kRequestVote:
    case MessageType::kRequestPreVote:
      s << " last=" << m.log_term << "/" << m.log_index;
      if (m.hint == 1) s << " transfer";
      break;
    case MessageType::kRequestVoteResp:
    case MessageType::kRequestPreVoteResp:
      s << (m.reject ? " rejected" : " granted");
      break;
    case MessageType::kHeartbeat:
      s << " commit=" << m.commit;
      if (m.hint || m.hint_high) s << " ctx=" << m.hint << "." << m.hint_high;
      break;
    case MessageType::kHeartbeatResp:
    case MessageType::kReadIndex:
      if (m.hint || m.hint_high) s << " ctx=" << m.hint << "." << m.hint_high;
      break;
    case MessageType::kReadIndexResp:
      if (m.reject) {
        s << " rejected ctx=" << m.hint << "." << m.hint_high;
      } else {
        s << " index=" << m.log_index << " ctx=" << m.hint << "." << m.hint_high;
      }
      break;
    case MessageType::kInstallSnapshot:
      s << " snapshot=" << m.snapshot.term << "/" << m.snapshot.index;
      if (m.snapshot.witness) s << " witness";
      break;
    case MessageType::kPropose:
      s << " [";
      for (size_t i = 0; i < m.entries.size(); ++i) s << (i ? ", " : "") << format_entry(m.entries[i]);
      s << "]";
      break;
    case MessageType::kRateLimit:
    case MessageType::kLeaderTransfer:
      s << " hint=" << m.hint;
      break;
    default:
      break;
  }
  return s.str();
}

}  // namespace dragonboat::sim
