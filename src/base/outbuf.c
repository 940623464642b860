/*
 * The bounded output queue (vmm/outbuf.h). The writer thread writes at
 * most PIPE_BUF bytes at a time, and only after poll() says the descriptor
 * takes output: a pipe then has room for all of them and the write does
 * not block, so the thread notices a close request within one poll slice
 * even when the reader has stopped reading.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "vmm/caps.h"
#include "vmm/outbuf.h"
#include "vmm/seccomp.h"
#include "vmm/wait.h"

#define POLL_SLICE_MS 100
/* A terminal that said "ready" and then took nothing: the pause before
 * the next try (a close ends it at once). */
#define EAGAIN_BACKOFF_MS 10

struct outbuf {
    int fd;
    struct vmm_wait wait; /* its lock guards the rest; the writer waits on
                           * it for its start, output, or a close */
    uint8_t *ring;
    size_t cap, head, len; /* queued bytes: ring[head .. head+len) mod cap */
    uint64_t dropped;
    int error;
    bool closing;
    bool started;        /* the writer has dropped its privileges */
    bool has_thread;     /* false while deferred (outbuf_defer_writers()) */
    gint64 stall_deadline;
    gint64 stall_us;
    pthread_t thread;
};

static bool output_or_close(void *data)
{
    struct outbuf *o = data;

    return o->len || o->closing;
}

static bool closing(void *data)
{
    return ((struct outbuf *)data)->closing;
}

static bool started(void *data)
{
    return ((struct outbuf *)data)->started;
}

/* Takes one chunk off the front of the queue (copied into @chunk) once
 * poll() says the descriptor is writable, writes it, and repeats. */
static void *writer(void *opaque)
{
    struct outbuf *o = opaque;
    uint8_t chunk[PIPE_BUF];

    pthread_setname_np(pthread_self(), "output");
    /* Started before vmm drops its privileges, which are per thread: this
     * thread needs none, so it drops them itself, at once. One started
     * after the filters (a VM's console under vmm serve) inherited none and
     * may not make the calls. */
    if (!vmm_seccomp_process_filtered() && !caps_drop_all(NULL))
        abort();
    vmm_wait_lock(&o->wait);
    o->started = true;
    vmm_wait_wake_locked(&o->wait);
    vmm_wait_unlock(&o->wait);
    vmm_wait_lock(&o->wait);
    for (;;) {
        size_t n, first;
        struct pollfd p = { .fd = o->fd, .events = POLLOUT };
        ssize_t w;
        int r, err;

        vmm_wait_until(&o->wait, G_MAXINT64, output_or_close, o);
        /* Started before the main thread's seccomp filter, which it got
         * through TSYNC: narrow to the writers' own list once that is on. */
        vmm_seccomp_adopt(VMM_THREAD_OUTPUT);
        if (!o->len)
            break;
        if (o->closing && g_get_monotonic_time() >= o->stall_deadline) {
            o->dropped += o->len;
            o->len = 0;
            break;
        }
        n = MIN(o->len, sizeof(chunk));
        first = MIN(n, o->cap - o->head);
        memcpy(chunk, o->ring + o->head, first);
        memcpy(chunk + first, o->ring, n - first);
        vmm_wait_unlock(&o->wait);

        r = poll(&p, 1, POLL_SLICE_MS);
        w = 0;
        err = 0;
        if (r > 0 && (p.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))) {
            w = write(o->fd, chunk, n);
            err = w < 0 ? errno : 0;
        }

        vmm_wait_lock(&o->wait);
        if (err == EAGAIN) /* a terminal that said "ready" */
            vmm_wait_until(&o->wait, vmm_deadline_ms(EAGAIN_BACKOFF_MS), closing, o);
        if (err == EINTR || err == EAGAIN)
            w = 0;
        if (w < 0) {
            /* The reader is gone or the file is unwritable: drop what is
             * queued and everything after it. */
            o->error = err;
            o->dropped += o->len;
            o->len = 0;
            continue;
        }
        if (w > 0) {
            o->head = (o->head + (size_t)w) % o->cap;
            o->len -= (size_t)w;
            /* Progress: a reader that still reads gets the whole output. */
            if (o->closing)
                o->stall_deadline = g_get_monotonic_time() + o->stall_us;
        }
    }
    vmm_wait_unlock(&o->wait);
    return NULL;
}

/* Writers of outbufs made while deferred; NULL when not deferring. */
static GMutex deferred_lock;
static GPtrArray *deferred;

static int start_writer(struct outbuf *o)
{
    sigset_t all, old;
    int e;

    /* Signals are for the main loop and the vCPU kick, not this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    e = pthread_create(&o->thread, NULL, writer, o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e)
        return e;
    o->has_thread = true;
    /* Its set-up is done before the caller goes on to install seccomp
     * filters (which would forbid it) or anything else. */
    vmm_wait_lock(&o->wait);
    vmm_wait_until(&o->wait, G_MAXINT64, started, o);
    vmm_wait_unlock(&o->wait);
    return 0;
}

struct outbuf *outbuf_new(int fd, size_t capacity)
{
    struct outbuf *o = g_new0(struct outbuf, 1);
    bool defer;
    int e = 0;

    o->fd = fd;
    o->cap = capacity ? capacity : OUTBUF_DEFAULT_CAPACITY;
    o->ring = g_malloc(o->cap);
    vmm_wait_init(&o->wait);
    g_mutex_lock(&deferred_lock);
    defer = deferred != NULL;
    if (defer)
        g_ptr_array_add(deferred, o);
    g_mutex_unlock(&deferred_lock);
    if (!defer)
        e = start_writer(o);
    if (e) {
        vmm_wait_clear(&o->wait);
        g_free(o->ring);
        g_free(o);
        errno = e;
        return NULL;
    }
    return o;
}

void outbuf_defer_writers(void)
{
    g_mutex_lock(&deferred_lock);
    if (!deferred)
        deferred = g_ptr_array_new();
    g_mutex_unlock(&deferred_lock);
}

/* Takes @o off the deferred list: true when it was there. */
static bool undefer(struct outbuf *o)
{
    bool was;

    g_mutex_lock(&deferred_lock);
    was = deferred && g_ptr_array_remove(deferred, o);
    g_mutex_unlock(&deferred_lock);
    return was;
}

int outbuf_start_writers(void)
{
    g_autoptr(GPtrArray) list = NULL;
    int e = 0;

    g_mutex_lock(&deferred_lock);
    list = g_steal_pointer(&deferred);
    g_mutex_unlock(&deferred_lock);
    for (guint i = 0; list && i < list->len; i++) {
        int r = start_writer(list->pdata[i]);

        if (r) {
            struct outbuf *o = list->pdata[i];

            /* It cannot write: what it is given is dropped and counted. */
            vmm_wait_lock(&o->wait);
            o->error = r;
            vmm_wait_unlock(&o->wait);
            e = e ? e : r;
        }
    }
    return e;
}

bool outbuf_write(struct outbuf *o, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    bool fits;

    vmm_wait_lock(&o->wait);
    fits = !o->error && !o->closing && len <= o->cap - o->len;
    if (fits) {
        size_t tail = (o->head + o->len) % o->cap;
        size_t first = MIN(len, o->cap - tail);

        memcpy(o->ring + tail, p, first);
        memcpy(o->ring, p + first, len - first);
        o->len += len;
        vmm_wait_wake_locked(&o->wait);
    } else {
        o->dropped += len;
    }
    vmm_wait_unlock(&o->wait);
    return fits;
}

uint64_t outbuf_dropped(struct outbuf *o)
{
    uint64_t d;

    vmm_wait_lock(&o->wait);
    d = o->dropped;
    vmm_wait_unlock(&o->wait);
    return d;
}

int outbuf_error(struct outbuf *o)
{
    int e;

    vmm_wait_lock(&o->wait);
    e = o->error;
    vmm_wait_unlock(&o->wait);
    return e;
}

uint64_t outbuf_close(struct outbuf *o, unsigned stall_ms)
{
    uint64_t dropped;

    if (!o)
        return 0;
    /* Closed while still deferred (its VM never got as far as starting
     * the writers): a writer now, to hand over what is queued. */
    if (undefer(o) && start_writer(o))
        o->error = EAGAIN;
    vmm_wait_lock(&o->wait);
    o->closing = true;
    o->stall_us = (gint64)stall_ms * 1000;
    o->stall_deadline = g_get_monotonic_time() + o->stall_us;
    vmm_wait_wake_locked(&o->wait);
    vmm_wait_unlock(&o->wait);
    /* The writer ends within a poll slice of the deadline: it never blocks
     * in write() (see above), so the join is bounded. */
    if (o->has_thread)
        pthread_join(o->thread, NULL);
    else
        o->dropped += o->len;
    dropped = o->dropped;
    vmm_wait_clear(&o->wait);
    g_free(o->ring);
    g_free(o);
    return dropped;
}
