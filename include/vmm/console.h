/* Where guest console output goes: stdout or a file. Several vCPUs and
 * devices may write at once; each write is atomic, and none waits for the
 * reader (output the reader cannot keep up with is dropped and counted). */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sees every byte of guest output, under the console's lock, on the
 * writing vCPU's thread: it must be short and never block (the panic watch
 * of a Linux boot, the status line of --status-line). */
typedef void (*console_observer_fn)(void *opaque, const char *buf, size_t len);
/* Takes guest input from the host; returns how many bytes it accepted (a
 * full receive FIFO accepts none: the caller retries later). */
typedef size_t (*console_input_fn)(void *opaque, const uint8_t *buf, size_t len);

struct outbuf;

#define CONSOLE_MAX_OBSERVERS 2

struct console_observer {
    console_observer_fn fn;
    void *data;
};

struct console {
    int fd;
    bool owns_fd;
    bool broken;   /* output was dropped (reported once) */
    struct outbuf *out;        /* the queue its writer thread drains */
    GMutex lock;
    uint64_t written;          /* bytes the guest wrote, for "printed nothing" */
    struct console_observer observers[CONSOLE_MAX_OBSERVERS]; /* free: fn NULL */
    console_input_fn input;    /* the UART that receives stdin, if any */
    void *input_data;
};

/* @path NULL means stdout. A file is created or truncated; a symlink or an
 * existing file that is not a regular one is refused. */
struct console *console_open(const char *path, GError **error);
/* The same, but a file keeps what it holds and is written after it: a VM
 * rebuilt in a new worker process (vmm serve --workers on, system_reset)
 * goes on where its last build stopped. */
struct console *console_reopen(const char *path, GError **error);
void console_write(struct console *c, const void *buf, size_t len);
/* Bytes dropped so far (no room in the queue, or the reader went away). */
uint64_t console_dropped(struct console *c);
/* Writes out what is queued (bounded: a reader that takes nothing for a few
 * seconds loses the rest), reports drops, and frees @c. */
void console_close(struct console *c);

/* Only while the VM is built, before any vCPU runs (or once none does).
 * Adding to a console that has CONSOLE_MAX_OBSERVERS is a bug in vmm. */
void console_add_observer(struct console *c, console_observer_fn fn, void *opaque);
void console_remove_observer(struct console *c, void *opaque);
/* Hands @buf to every observer; the caller holds the console's lock. */
void console_observe(struct console *c, const char *buf, size_t len);
void console_set_input(struct console *c, console_input_fn fn, void *opaque);
/* Feeds standard input to the input UART from a thread of its own, when
 * stdin is a terminal or a pipe (not /dev/null, not a file). */
void console_start_input(struct console *c);

#endif
