// sim/format.h — compact, stable text forms of core values, used by the
// interaction transcripts and by debugging output.
#pragma once

#include <string>

#include "raft/types.h"

namespace dragonboat::sim {

std::string format_entry(const raft::Entry& e);
std::string format_message(const raft::Message& m);

}  // namespace dragonboat::sim
