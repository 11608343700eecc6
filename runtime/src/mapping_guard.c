/*===- mapping_guard.c - SIGBUS inside a weights mapping -------------------===
 *
 * See mapping_guard.h. The handler may run on any thread at any moment, so
 * the slots are read with atomics and nothing in it allocates or locks:
 * it only compares addresses, write()s and _exit()s, all async-signal-safe.
 * Adding and removing slots take a mutex among themselves. A slot is
 * published by storing its start last and withdrawn by clearing the start
 * first, so the handler never pairs a start with another slot's end.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "mapping_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Artifacts open at once in one process, guarded. */
#define GUARD_SLOTS 64

typedef struct guard_slot_t {
  _Atomic(uintptr_t) start; /* 0 when free */
  _Atomic(uintptr_t) end;
  _Atomic(const char *) label;
} guard_slot_t;

static guard_slot_t g_slots[GUARD_SLOTS];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_install_once = PTHREAD_ONCE_INIT;
static struct sigaction g_previous;

static void write_all(const char *text) {
  size_t left = strlen(text);
  while (left) {
    ssize_t n = write(STDERR_FILENO, text, left);
    if (n <= 0)
      return;
    text += n;
    left -= (size_t)n;
  }
}

static void on_sigbus(int signal_number, siginfo_t *info, void *context) {
  uintptr_t address = (uintptr_t)info->si_addr;
  for (int i = 0; i < GUARD_SLOTS; ++i) {
    uintptr_t start = atomic_load(&g_slots[i].start);
    if (start && address >= start && address < atomic_load(&g_slots[i].end)) {
      const char *label = atomic_load(&g_slots[i].label);
      write_all("error: artifact ");
      write_all(label ? label : "(unknown)");
      write_all(" changed or was truncated while running\n");
      _exit(1);
    }
  }
  /* Not ours: whoever handled SIGBUS before, or the default action, which
   * the faulting instruction meets again when this handler returns. */
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(signal_number, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal_number);
    return;
  }
  signal(SIGBUS, SIG_DFL);
}

static void install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &g_previous);
}

int brick_mapping_guard_add(const void *start, size_t size, const char *label) {
  if (!start || !size)
    return -1;
  pthread_once(&g_install_once, install);
  pthread_mutex_lock(&g_lock);
  int slot = -1;
  for (int i = 0; i < GUARD_SLOTS && slot < 0; ++i)
    if (atomic_load(&g_slots[i].start) == 0)
      slot = i;
  if (slot >= 0) {
    atomic_store(&g_slots[slot].label, label);
    atomic_store(&g_slots[slot].end, (uintptr_t)start + size);
    atomic_store(&g_slots[slot].start, (uintptr_t)start);
  }
  pthread_mutex_unlock(&g_lock);
  return slot;
}

void brick_mapping_guard_remove(int slot) {
  if (slot < 0 || slot >= GUARD_SLOTS)
    return;
  pthread_mutex_lock(&g_lock);
  atomic_store(&g_slots[slot].start, 0);
  atomic_store(&g_slots[slot].end, 0);
  atomic_store(&g_slots[slot].label, NULL);
  pthread_mutex_unlock(&g_lock);
}
