/* Where guest console output goes: stdout or a file. Several vCPUs and
 * devices may write at once; each write is atomic. */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct console {
    int fd;
    bool owns_fd;
    bool broken;   /* a write failed: later output is dropped, once reported */
    GMutex lock;
};

/* @path NULL means stdout. */
struct console *console_open(const char *path, GError **error);
void console_write(struct console *c, const void *buf, size_t len);
void console_close(struct console *c);

#endif
