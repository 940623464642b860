/* Who sees guest console output besides its reader (vmm/console.h): a
 * fixed set of slots, so the vCPU's write path walks a short array and
 * never allocates. Apart from console.c so that fakes share it. */
#include "vmm/console.h"

void console_add_observer(struct console *c, console_observer_fn fn, void *opaque)
{
    for (size_t i = 0; i < CONSOLE_MAX_OBSERVERS; i++) {
        if (!c->observers[i].fn) {
            c->observers[i] = (struct console_observer){ fn, opaque };
            return;
        }
    }
    g_error("console: more than %d observers", CONSOLE_MAX_OBSERVERS);
}

void console_remove_observer(struct console *c, void *opaque)
{
    for (size_t i = 0; i < CONSOLE_MAX_OBSERVERS; i++)
        if (c->observers[i].fn && c->observers[i].data == opaque)
            c->observers[i] = (struct console_observer){ 0 };
}

void console_observe(struct console *c, const char *buf, size_t len)
{
    for (size_t i = 0; i < CONSOLE_MAX_OBSERVERS; i++)
        if (c->observers[i].fn)
            c->observers[i].fn(c->observers[i].data, buf, len);
}
