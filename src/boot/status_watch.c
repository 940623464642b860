/*
 * [console] status-line: a test guest's verdict is the last
 * "EXIT: STATUS=n" line it printed (vmm/console_status.h); the VM's stop
 * turns it into vmm's status (vm_stop). Opt-in, so that an ordinary guest
 * printing that text changes nothing.
 */
#include "vmm/boot.h"
#include "vmm/console.h"
#include "vmm/console_status.h"
#include "vmm/iobus.h"
#include "vmm/vm.h"

struct status_watch {
    struct vm *vm;
    struct status_line line;
};

/* On the writing vCPU's thread, under the console's lock: O(1) a byte. */
static void observe(void *opaque, const char *buf, size_t len)
{
    struct status_watch *w = opaque;
    uint64_t n;

    if (status_line_feed(&w->line, buf, len, &n))
        vm_note_status_line(w->vm, n);
}

/* Once no vCPU writes to the console, which outlives the VM. */
static void watch_free(void *opaque)
{
    struct status_watch *w = opaque;

    console_remove_observer(w->vm->console, w);
    g_free(w);
}

void status_line_watch(struct vm *vm)
{
    struct status_watch *w = g_new0(struct status_watch, 1);

    w->vm = vm;
    vm->status_from_line = true;
    iobus_add_cleanup(&vm->iobus, watch_free, w);
    console_add_observer(vm->console, observe, w);
}
