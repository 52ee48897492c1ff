/*
 * hp_fault: named fault points, for tests. HP_FAULT("delivery.after_send")
 * marks a place where a crash or an error matters (after a side effect and
 * before its record, between a claim and its use, inside a transaction).
 * Test builds (HP_TESTING) arm points from HOLDPOINT_FAULTS; in other builds
 * the macro is the constant false and the points cost nothing.
 *
 * HOLDPOINT_FAULTS is a comma-separated list of name=action[@n]: action
 * "crash" kills the process on the spot with SIGKILL (no cleanup, like a
 * power cut), "error" makes HP_FAULT return true so the caller takes its
 * error path; @n fires on the n-th time the point is reached (default the
 * first) and only then. Every point is listed in docs/internals/faults.md.
 */
#ifndef HP_FAULT_H
#define HP_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_err.h"

/* Disarms every point, then parses spec (NULL or "" arms nothing) and arms
 * its points; call once from main() before threads start. HP_ERR_CONFIG
 * with the bad entry in err for malformed text, an unknown point name, or
 * any spec in a build without HP_TESTING. */
HP_MUSTCHECK hp_err hp_fault_init(const char *spec, char *err, size_t errcap);

#ifdef HP_TESTING
/* Counts a pass through point name; kills the process or returns true when
 * an armed action fires. Thread-safe. */
bool hp_fault_hit(const char *name);
#define HP_FAULT(name) hp_fault_hit(name)
#else
#define HP_FAULT(name) false
#endif

#endif
