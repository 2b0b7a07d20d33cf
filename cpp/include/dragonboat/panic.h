// dragonboat/panic.h — reporting impossible states.
//
// Expected conditions are Status values; a state that Raft's invariants rule
// out (e.g. a conflict below the commit index) means memory or storage is
// already corrupt, and continuing could acknowledge lost writes. Such states
// call panic(), which reports the message and aborts the process. The pure
// Raft core calls it without doing any I/O itself: the reporting lives in
// the host layer (cpp/src/common/panic.cc).
#pragma once

#include <string>

namespace dragonboat {

// Reports `message` (stderr) and aborts. Never returns.
[[noreturn]] void panic(const std::string& message);

}  // namespace dragonboat
