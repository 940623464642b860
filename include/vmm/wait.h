/*
 * vmm's one way for a thread to wait for another: a condition with a
 * deadline. The waiter holds the lock, and sleeps until what it waits for
 * holds or the deadline passes; whoever changes what it waits for does so
 * under the lock and wakes it. Nothing sleeps a slice and looks again: a
 * wait that must also end when something else happens (a vCPU's wait that
 * a stop of its VM must end) is registered with that something, which
 * wakes it too (vm_blocking_begin()). Every wait vmm makes has a bound.
 */
#ifndef VMM_WAIT_H
#define VMM_WAIT_H

#include <glib.h>
#include <stdbool.h>

struct vmm_wait {
    GMutex lock;
    GCond cond;
};

/* What a waiter waits for, tested under the lock. */
typedef bool (*vmm_wait_done_fn)(void *data);

void vmm_wait_init(struct vmm_wait *w);
void vmm_wait_clear(struct vmm_wait *w);

static inline void vmm_wait_lock(struct vmm_wait *w) { g_mutex_lock(&w->lock); }
static inline void vmm_wait_unlock(struct vmm_wait *w) { g_mutex_unlock(&w->lock); }

/* The deadline @ms milliseconds from now, for vmm_wait_until(). */
gint64 vmm_deadline_ms(unsigned ms);

/* With @w's lock held: sleeps until @done(@data) holds or the monotonic
 * clock (g_get_monotonic_time()) reaches @deadline; returns @done's last
 * answer. The lock is held again on return. */
bool vmm_wait_until(struct vmm_wait *w, gint64 deadline, vmm_wait_done_fn done, void *data);

/* Wakes every waiter on @w, to test again: with the lock held (_locked)
 * or not. */
void vmm_wait_wake_locked(struct vmm_wait *w);
void vmm_wait_wake(struct vmm_wait *w);

#endif
