// common/thread_name.h — names engine threads so `top -H`, `perf` and
// debuggers show what each one is (Linux truncates names to 15 bytes).
#pragma once

#include <pthread.h>

#include <string>

namespace dragonboat {

// Names the calling thread "db-<role>" (e.g. db-step-0, db-apply-1).
inline void set_thread_name(const std::string& role) {
  std::string name = ("db-" + role).substr(0, 15);
  ::pthread_setname_np(::pthread_self(), name.c_str());
}

}  // namespace dragonboat
