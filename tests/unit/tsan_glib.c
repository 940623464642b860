/*
 * Linked into the unit tests of a ThreadSanitizer build only
 * (-Db_sanitize=thread). GLib on Linux implements GMutex and GCond with
 * raw futexes, which ThreadSanitizer cannot see, and hands idle and
 * timeout sources between threads under its own (uninstrumented) locks:
 * without help every datum vmm guards with a GMutex, or passes to the
 * main loop, is reported as a race. These definitions take the place of
 * GLib's for vmm's own calls (GLib's internal calls bind to its own) and
 * tell ThreadSanitizer what they synchronise, nothing more.
 */
#include <dlfcn.h>
#include <glib.h>
#include <sanitizer/tsan_interface.h>
#include <stdlib.h>

/* GLib's own definition of @name, looked up on first use: libraries'
 * constructors may lock before this file's would run. */
static void *real(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        if (!f)
            abort();
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

typedef void (*mutex_fn)(GMutex *);
typedef gboolean (*trylock_fn)(GMutex *);
typedef void (*wait_fn)(GCond *, GMutex *);
typedef gboolean (*wait_until_fn)(GCond *, GMutex *, gint64);
typedef void (*set_callback_fn)(GSource *, GSourceFunc, gpointer, GDestroyNotify);

#define REAL(type, name) ((type)real(&real_##name, #name))
static void *real_g_mutex_lock, *real_g_mutex_trylock, *real_g_mutex_unlock, *real_g_cond_wait,
    *real_g_cond_wait_until, *real_g_source_set_callback;

void g_mutex_lock(GMutex *m)
{
    REAL(mutex_fn, g_mutex_lock)(m);
    __tsan_acquire(m);
}

gboolean g_mutex_trylock(GMutex *m)
{
    if (!REAL(trylock_fn, g_mutex_trylock)(m))
        return FALSE;
    __tsan_acquire(m);
    return TRUE;
}

void g_mutex_unlock(GMutex *m)
{
    __tsan_release(m);
    REAL(mutex_fn, g_mutex_unlock)(m);
}

void g_cond_wait(GCond *c, GMutex *m)
{
    __tsan_release(m);
    REAL(wait_fn, g_cond_wait)(c, m);
    __tsan_acquire(m);
}

gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end_time)
{
    gboolean r;

    __tsan_release(m);
    r = REAL(wait_until_fn, g_cond_wait_until)(c, m, end_time);
    __tsan_acquire(m);
    return r;
}

/* An idle or timeout callback: what the thread that set it up wrote
 * happens before it runs, and what it did before its data is freed. */
struct handoff {
    GSourceFunc func;
    gpointer data;
    GDestroyNotify notify;
};

static gboolean handoff_run(gpointer p)
{
    struct handoff *h = p;
    gboolean r;

    __tsan_acquire(h);
    r = h->func(h->data);
    __tsan_release(h);
    return r;
}

static void handoff_free(gpointer p)
{
    struct handoff *h = p;

    __tsan_acquire(h);
    if (h->notify)
        h->notify(h->data);
    g_free(h);
}

void g_source_set_callback(GSource *source, GSourceFunc func, gpointer data,
                           GDestroyNotify notify)
{
    struct handoff *h;

    /* Other sources (fd watches) have callbacks of other types, and stay
     * on the thread that made them. */
    if (source->source_funcs != &g_idle_funcs && source->source_funcs != &g_timeout_funcs) {
        REAL(set_callback_fn, g_source_set_callback)(source, func, data, notify);
        return;
    }
    h = g_new(struct handoff, 1);
    *h = (struct handoff){ func, data, notify };
    REAL(set_callback_fn, g_source_set_callback)(source, handoff_run, h, handoff_free);
    /* After the real call: GLib allocates its callback record there, and
     * frees it on the other thread right after handoff_free's acquire. */
    __tsan_release(h);
}

/* In ThreadSanitizer's runtime, not in GCC 12's header: no memory access
 * or synchronisation of the calling thread is recorded in between. */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

typedef guint (*attach_fn)(GSource *, GMainContext *);
static void *real_g_source_attach;

/* g_source_attach() is thread-safe: it links the source into the
 * context's lists under the context's own lock, which ThreadSanitizer
 * cannot see. When no source of that priority is attached, GLib allocates
 * a list node for it here, and the main thread frees it once the last one
 * has run: on a loaded host a vCPU thread's monitor event (an idle source)
 * was reported as a race between that allocation and the main thread's
 * g_list_remove(). What happens inside the call is GLib's to keep safe:
 * it goes unrecorded. The source's callback and data are handed over by
 * g_source_set_callback() above. */
guint g_source_attach(GSource *source, GMainContext *context)
{
    guint id;

    __tsan_ignore_thread_begin();
    id = REAL(attach_fn, g_source_attach)(source, context);
    __tsan_ignore_thread_end();
    return id;
}

/* GLib allocates a GRWLock's pthread lock on its first use and publishes
 * it with its own (uninstrumented) atomics. The error-domain table's lock
 * is first taken by whichever thread makes the process's first GError: on
 * a loaded host, now and then a test's worker thread, and every later
 * reader on another thread was reported as a race with that allocation.
 * One GError made here, before any thread exists, allocates it first. */
__attribute__((constructor)) static void first_error(void)
{
    g_error_free(g_error_new_literal(g_quark_from_static_string("vmm-tsan-glib"), 0, ""));
}
