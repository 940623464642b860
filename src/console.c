#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/error.h"

struct console *console_open(const char *path, GError **error)
{
    struct console *c = g_new0(struct console, 1);

    g_mutex_init(&c->lock);
    if (!path) {
        c->fd = STDOUT_FILENO;
        return c;
    }
    c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c->fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "console file %s: %s",
                    path, g_strerror(errno));
        g_mutex_clear(&c->lock);
        g_free(c);
        return NULL;
    }
    c->owns_fd = true;
    return c;
}

void console_write(struct console *c, const void *buf, size_t len)
{
    const char *p = buf;

    g_mutex_lock(&c->lock);
    c->written += len;
    if (c->observer)
        c->observer(c->observer_data, buf, len);
    while (len && !c->broken) {
        ssize_t n = write(c->fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A closed pipe or a full disk must not stop the guest. */
            vmm_log("console: %s; further guest output is dropped",
                    n < 0 ? g_strerror(errno) : "short write");
            c->broken = true;
            break;
        }
        p += n;
        len -= n;
    }
    g_mutex_unlock(&c->lock);
}

void console_close(struct console *c)
{
    if (!c)
        return;
    if (c->owns_fd)
        close(c->fd);
    g_mutex_clear(&c->lock);
    g_free(c);
}

void console_set_observer(struct console *c, console_observer_fn fn, void *opaque)
{
    c->observer = fn;
    c->observer_data = opaque;
}

void console_set_input(struct console *c, console_input_fn fn, void *opaque)
{
    c->input = fn;
    c->input_data = opaque;
}
