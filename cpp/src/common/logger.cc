#include "dragonboat/logger.h"

#include <cstdio>
#include <memory>
#include <mutex>

namespace dragonboat {
namespace {

std::mutex& sink_mu() {
  static std::mutex mu;
  return mu;
}
std::shared_ptr<LogSink>& sink() {
  static std::shared_ptr<LogSink> s;
  return s;
}

}  // namespace

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARNING";
    case LogLevel::kError: return "ERROR";
  }
  return "UNKNOWN";
}

void set_log_sink(LogSink s) {
  std::lock_guard<std::mutex> g(sink_mu());
  sink() = s ? std::make_shared<LogSink>(std::move(s)) : nullptr;
}

void log_message(LogLevel level, const char* component, const std::string& message) {
  std::shared_ptr<LogSink> s;
  {
    std::lock_guard<std::mutex> g(sink_mu());
    s = sink();
  }
  if (s) {
    (*s)(level, component, message);
    return;
  }
  if (level >= LogLevel::kWarning) {
    std::fprintf(stderr, "dragonboat %s [%s] %s\n", log_level_name(level), component, message.c_str());
  }
}

}  // namespace dragonboat
