/*
 * A kernel panic must never look like success. Linux prints
 * "Kernel panic - not syncing: <why>" first and, when it gives up,
 * "---[ end Kernel panic - not syncing: <why> ]---". With panic=-1 it
 * resets in between; otherwise it spins after the closing line. So: once
 * the banner has been seen, the VM's end by reset, power-off or exit
 * device counts as a panic (vm_stop), and the closing line ends it at once.
 * The banner is matched at the start of a console line, after an optional
 * printk timestamp; guest output that merely quotes it mid-line does not
 * count.
 */
#include <string.h>

#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define BANNER     "Kernel panic - not syncing"
#define END_BANNER "---[ end Kernel panic - not syncing"

struct panic_watch {
    struct vm *vm;
    char line[256];
    size_t len;
};

/* @line without its printk timestamp ("[    1.234567] "). Output from
 * another CPU can cut in just after the timestamp's "[" (a panic on one CPU
 * while init writes on another: "init: [up" then "    4.877525] Kernel
 * panic - ..."), so a timestamp that lost its "[" to the line before counts
 * as one too. */
static const char *message_start(const char *line)
{
    const char *close = NULL;

    if (line[0] == '[') {
        close = strchr(line, ']');
    } else {
        const char *p = line + strspn(line, " ");
        size_t digits = strspn(p, "0123456789.");

        if (digits && p[digits] == ']' && strchr(p, '.') < p + digits)
            close = p + digits;
    }
    if (close) {
        line = close + 1;
        while (*line == ' ')
            line++;
    }
    return line;
}

static void line_done(struct panic_watch *w)
{
    const char *msg;

    w->line[w->len] = '\0';
    w->len = 0;
    msg = message_start(w->line);
    if (g_str_has_prefix(msg, BANNER))
        vm_note_panic(w->vm, msg);
    else if (g_str_has_prefix(msg, END_BANNER))
        vm_stop(w->vm, VM_STOP_PANIC, VMM_EXIT_PANIC, "guest kernel panicked: %s", msg);
}

static void observe(void *opaque, const char *buf, size_t len)
{
    struct panic_watch *w = opaque;

    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\n' || c == '\r') {
            if (w->len)
                line_done(w);
        } else if (w->len < sizeof(w->line) - 1) {
            w->line[w->len++] = c;
        }
    }
}

/* From the VM's I/O registry, once no vCPU writes to the console: the
 * console outlives the VM (a rebuild keeps it) and must not call a freed
 * watch. */
static void watch_free(void *opaque)
{
    struct panic_watch *w = opaque;

    console_remove_observer(w->vm->console, w);
    g_free(w);
}

void linux_panic_watch(struct vm *vm)
{
    struct panic_watch *w = g_new0(struct panic_watch, 1);

    w->vm = vm;
    iobus_add_cleanup(&vm->iobus, watch_free, w);
    console_add_observer(vm->console, observe, w);
}
