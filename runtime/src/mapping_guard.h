/*===- mapping_guard.h - A clear line, not a SIGBUS, for a changed file ----===
 *
 * The weights of an artifact opened from a file are mapped, not copied, so
 * that opening costs O(metadata) and pages come in on first use. A mapping
 * is only as stable as its file: a page past the end of a file that was
 * truncated (or rewritten in place by `cp`, which truncates first) is a
 * SIGBUS, which kills the process with no word. The guard installs one
 * process-wide SIGBUS handler (sigaction, SA_SIGINFO) the first time a
 * mapping is registered; when the faulting address lies inside a registered
 * mapping it writes "error: artifact FILE changed or was truncated while
 * running" to stderr and exits with status 1. Any other SIGBUS goes to the
 * handler that was installed before, or gets the default action.
 *
 * The session also compares the file with what was opened before each step
 * (brick_artifact_check_unchanged), which turns most changes into a status;
 * the guard covers a change during a step, or a read outside a session.
 * Internal to the runtime.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_SRC_MAPPING_GUARD_H
#define BRICK_RUNTIME_SRC_MAPPING_GUARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Guards [start, start + size), a mapping of the file `label` (borrowed:
 * it must outlive the registration). Returns a slot for
 * brick_mapping_guard_remove, or -1 when every slot is taken (the mapping
 * then works unguarded). */
int brick_mapping_guard_add(const void *start, size_t size, const char *label);

/* Stops guarding `slot` (from brick_mapping_guard_add); -1 is a no-op. */
void brick_mapping_guard_remove(int slot);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_RUNTIME_SRC_MAPPING_GUARD_H */
