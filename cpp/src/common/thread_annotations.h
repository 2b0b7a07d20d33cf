// common/thread_annotations.h — which lock guards which field, written where
// the field is declared. Under clang the macros are its thread-safety
// attributes (checked with -Wthread-safety when the mutex type is annotated,
// as libc++'s is); elsewhere they document and compile to nothing.
#pragma once

#if defined(__clang__)
#define DB_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define DB_THREAD_ANNOTATION(x)
#endif

// The field is read and written only with `mu` held.
#define DB_GUARDED_BY(mu) DB_THREAD_ANNOTATION(guarded_by(mu))
// The pointee is read and written only with `mu` held.
#define DB_PT_GUARDED_BY(mu) DB_THREAD_ANNOTATION(pt_guarded_by(mu))
// The function is called with `mu` held.
#define DB_REQUIRES(mu) DB_THREAD_ANNOTATION(requires_capability(mu))
