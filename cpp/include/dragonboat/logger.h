// dragonboat/logger.h — where the engine's log lines go.
//
// Components log through log_message(); by default warnings and errors go to
// stderr. Applications (and the Python package, which forwards to Python's
// `logging` under the "dragonboat" logger) install their own sink.
// Thread-safety: all functions are thread-safe; a sink may be called from
// any engine thread concurrently and must not call back into the engine.
#pragma once

#include <functional>
#include <string>

namespace dragonboat {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

const char* log_level_name(LogLevel level);

using LogSink = std::function<void(LogLevel level, const char* component, const std::string& message)>;

// Replaces the sink; an empty function restores the default (stderr,
// warnings and errors only).
void set_log_sink(LogSink sink);

// Sends one line to the sink. `component` names the layer, e.g. "transport".
void log_message(LogLevel level, const char* component, const std::string& message);

}  // namespace dragonboat
