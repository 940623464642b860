/* A condition with a deadline (vmm/wait.h). */
#include "vmm/wait.h"

void vmm_wait_init(struct vmm_wait *w)
{
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
}

void vmm_wait_clear(struct vmm_wait *w)
{
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
}

gint64 vmm_deadline_ms(unsigned ms)
{
    return g_get_monotonic_time() + (gint64)ms * G_TIME_SPAN_MILLISECOND;
}

bool vmm_wait_until(struct vmm_wait *w, gint64 deadline, vmm_wait_done_fn done, void *data)
{
    /* A wake-up may be spurious, or for another waiter: test again. */
    while (!done(data)) {
        if (!g_cond_wait_until(&w->cond, &w->lock, deadline))
            return done(data);
    }
    return true;
}

void vmm_wait_wake_locked(struct vmm_wait *w)
{
    g_cond_broadcast(&w->cond);
}

void vmm_wait_wake(struct vmm_wait *w)
{
    g_mutex_lock(&w->lock);
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
}
