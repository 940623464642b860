/*
 * Guest console output. A guest decides how much it prints and how fast;
 * the reader (a terminal, a pipe to a log collector, a file) decides how
 * fast it takes it. Neither may stall the other: output goes through a
 * bounded queue (vmm/outbuf.h) that a thread of its own writes out, so a
 * vCPU never waits for the reader, and what does not fit is dropped,
 * counted and reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/outbuf.h"

/* The console file: never through a symlink (a planted link must not make
 * vmm truncate what it points to) and never blocking (a FIFO nobody reads).
 * A regular file is truncated; a terminal, another character device or a
 * FIFO with a reader is written as it is, never truncated; anything else
 * (a block device, a socket) is refused. */
static int open_console_file(const char *path, bool truncate, GError **error)
{
    struct stat st;
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                  (truncate ? 0 : O_APPEND), 0644);

    if (fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "console file %s: %s", path,
                    errno == ELOOP ? "is a symbolic link (give the file itself)" :
                    errno == ENXIO ? "a FIFO with no reader, or a socket" :
                    g_strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) ||
                                S_ISFIFO(st.st_mode))) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "console file %s: not a regular file, a terminal or a FIFO", path);
        close(fd);
        return -1;
    }
    if (truncate && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "console file %s: %s", path,
                    g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static struct console *open_console(const char *path, bool truncate, GError **error)
{
    struct console *c = g_new0(struct console, 1);

    g_mutex_init(&c->lock);
    c->fd = STDOUT_FILENO;
    if (path) {
        c->fd = open_console_file(path, truncate, error);
        if (c->fd < 0)
            goto fail;
        c->owns_fd = true;
    }
    c->out = outbuf_new(c->fd, OUTBUF_DEFAULT_CAPACITY);
    if (!c->out) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot start the console output thread: %s", g_strerror(errno));
        goto fail;
    }
    return c;

fail:
    if (c->owns_fd)
        close(c->fd);
    g_mutex_clear(&c->lock);
    g_free(c);
    return NULL;
}

struct console *console_open(const char *path, GError **error)
{
    return open_console(path, true, error);
}

struct console *console_reopen(const char *path, GError **error)
{
    return open_console(path, false, error);
}

void console_write(struct console *c, const void *buf, size_t len)
{
    bool queued, report = false;
    int err;

    g_mutex_lock(&c->lock);
    c->written += len;
    console_observe(c, buf, len);
    queued = outbuf_write(c->out, buf, len);
    if (!queued && !c->broken) {
        /* Once, then counted: the reader may be slow for a long time. */
        c->broken = true;
        report = true;
    }
    g_mutex_unlock(&c->lock);
    if (report) {
        err = outbuf_error(c->out);
        if (err)
            /* strerror(), not g_strerror(): this runs on a vCPU thread,
             * whose seccomp list has no open() for GLib's charset files. */
            vmm_log("console: %s; further guest output is dropped", strerror(err));
        else
            vmm_log("console: the reader is not keeping up; guest output is dropped "
                    "while it is behind (the total is reported at the end)");
    }
}

uint64_t console_dropped(struct console *c)
{
    return outbuf_dropped(c->out);
}

void console_close(struct console *c)
{
    uint64_t dropped;

    if (!c)
        return;
    dropped = outbuf_close(c->out, OUTBUF_CLOSE_STALL_MS);
    if (dropped)
        vmm_log("console: %" G_GUINT64_FORMAT " bytes of guest output were dropped "
                "(the reader did not keep up or went away)", dropped);
    if (c->owns_fd)
        close(c->fd);
    g_mutex_clear(&c->lock);
    g_free(c);
}

void console_set_input(struct console *c, console_input_fn fn, void *opaque)
{
    c->input = fn;
    c->input_data = opaque;
}
