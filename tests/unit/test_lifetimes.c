/*
 * Device state lives exactly as long as its VM: every device model
 * (realized onto vm->devices) and watcher (an I/O registry cleanup) is
 * freed by vm_destroy()
 * (run under LeakSanitizer: meson setup build-asan -Db_sanitize=address,undefined),
 * and the console that outlives a VM (system_reset keeps it) is left with
 * no pointer into the freed VM: no input UART, no panic or status-line
 * watch, and a stdin
 * thread that stops feeding.
 */
#include <check.h>
#include <dirent.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/device.h"
#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/exit_device.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/pl011.h"
#include "vmm/hw/uart16550.h"
#include "vmm/boot.h"
#include "vmm/linux.h"
#include "vmm/vm.h"

#include "unit.h"

#define COM1 0x3f8
#define PL011_BASE 0x09000000
#define EXIT_BASE 0x090f0000

static char *tmpdir;
static GPtrArray *lines;

/* Guest output goes to a file the test removes. */
static struct console *test_console(void)
{
    g_autofree char *path = NULL;
    struct console *c;
    GError *err = NULL;

    if (!tmpdir)
        tmpdir = g_dir_make_tmp("vmm-lifetimes-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmpdir);
    path = g_build_filename(tmpdir, "console", NULL);
    c = console_open(path, &err);
    ck_assert_msg(c, "%s", err ? err->message : "");
    unlink(path);
    rmdir(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
    return c;
}

/* What vm_create() sets up before KVM is involved: vm_destroy() takes it. */
static struct vm *bare_vm(struct console *c)
{
    struct vm *vm = g_new0(struct vm, 1);

    vm->name = g_strdup("t");
    vm->fd = -1;
    vm->console = c;
    vm->status_line = -1;
    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    iobus_init(&vm->iobus);
    return vm;
}

/* One machine-table line. */
static bool realize(struct vm *vm, const struct device_ops *ops, uint64_t base,
                    uint64_t size, GError **error)
{
    struct device_desc *d = g_new0(struct device_desc, 1);
    struct device_ctx ctx = { .iobus = &vm->iobus, .console = vm->console };

    *d = (struct device_desc){ ops, base, size, -1, DEVICE_BOOT_ANY };
    /* The line lives as long as the test process (a table is static). */
    g_ptr_array_add(lines, d);
    return device_realize(&vm->devices, d, &ctx, error);
}

/* Every device model vmm has, on one VM. */
static struct vm *vm_with_devices(struct console *c)
{
    struct vm *vm = bare_vm(c);

    ck_assert(realize(vm, &uart16550_device, COM1, 8, NULL));
    ck_assert(realize(vm, &pl011_device, PL011_BASE, 0x1000, NULL));
    ck_assert(realize(vm, &i8042_device, I8042_DATA_PORT, 5, NULL));
    ck_assert(realize(vm, &acpi_sleep_device, ACPI_SLEEP_CONTROL_PORT, 2, NULL));
    ck_assert(realize(vm, &debug_exit_device, 0xf4, 4, NULL));
    ck_assert(realize(vm, &exit_status_device, 0xf8, 4, NULL));
    ck_assert(realize(vm, &exit_mmio_device, EXIT_BASE, 0x1000, NULL));
    linux_panic_watch(vm);
    status_line_watch(vm);
    return vm;
}

static void out(struct vm *vm, uint16_t port, uint8_t v)
{
    struct vcpu vcpu = { .vm = vm };

    iobus_access(&vm->iobus, IOBUS_PIO, &vcpu, port, &v, 1, true);
}

static uint8_t in(struct vm *vm, uint16_t port)
{
    struct vcpu vcpu = { .vm = vm };
    uint8_t v = 0;

    iobus_access(&vm->iobus, IOBUS_PIO, &vcpu, port, &v, 1, false);
    return v;
}

/* Created and destroyed again and again on one console, as system_reset
 * does: nothing leaks (LeakSanitizer), and each build's devices are the
 * console's until their VM goes. */
START_TEST(devices_freed_with_their_vm)
{
    struct console *c = test_console();

    for (int i = 0; i < 20; i++) {
        struct vm *vm = vm_with_devices(c);

        ck_assert_ptr_nonnull(c->input);
        for (int o = 0; o < CONSOLE_MAX_OBSERVERS; o++)
            ck_assert_ptr_nonnull(c->observers[o].fn);
        console_write(c, "Kernel panic - not syncing: test\n", 33);
        ck_assert_ptr_nonnull(vm->panic_line); /* the watch is live */
        console_write(c, "EXIT: STATUS=5\n", 15);
        ck_assert_int_eq(vm->status_line, 5); /* and this one */
        vm_destroy(vm);
        ck_assert_ptr_null(c->input);
        ck_assert_ptr_null(c->input_data);
        for (int o = 0; o < CONSOLE_MAX_OBSERVERS; o++) {
            ck_assert_ptr_null(c->observers[o].fn);
            ck_assert_ptr_null(c->observers[o].data);
        }
        console_write(c, "after\n", 6); /* reaches no freed watch */
    }
    console_close(c);
}
END_TEST

/* The panic banner counts at the start of a line, after a printk
 * timestamp, also one whose "[" went to the line before when another
 * CPU's output cut in (seen in the bed: a reset after this banner ended
 * vmm with 0); a banner merely quoted mid-line does not count. */
START_TEST(panic_banner_after_cut_timestamp)
{
    struct console *c = test_console();
    struct vm *vm = bare_vm(c);
    static const char quoted[] = "init: echo Kernel panic - not syncing: no\n";
    static const char cut[] = "init: [up\n    4.877525] Kernel panic - not syncing: sysrq\n";

    linux_panic_watch(vm);
    console_write(c, quoted, strlen(quoted));
    ck_assert_ptr_null(vm->panic_line);
    console_write(c, cut, strlen(cut));
    ck_assert_ptr_nonnull(vm->panic_line);
    ck_assert_str_eq(vm->panic_line, "Kernel panic - not syncing: sysrq");
    vm_destroy(vm);
    console_close(c);
}
END_TEST

/* A VM that fails half-built frees what it has so far. */
START_TEST(half_built_vm_freed)
{
    struct console *c = test_console();
    struct vm *vm = bare_vm(c);
    GError *err = NULL;

    ck_assert(realize(vm, &uart16550_device, COM1, 8, NULL));
    ck_assert(!realize(vm, &uart16550_device, COM1 + 4, 8, &err)); /* overlaps */
    g_clear_error(&err);
    /* The i8042's data port registers, its command port does not. */
    ck_assert(realize(vm, &debug_exit_device, I8042_CMD_PORT, 4, NULL));
    ck_assert(!realize(vm, &i8042_device, I8042_DATA_PORT, 5, &err));
    g_clear_error(&err);
    ck_assert(!realize(vm, &pl011_device, UINT64_MAX - 0x10, 0x1000, &err)); /* wraps */
    g_clear_error(&err);
    vm_destroy(vm);
    ck_assert_ptr_null(c->input);
    console_close(c);
}
END_TEST

static void note(void *data)
{
    GString *s = data;

    g_string_append_c(s, s->len ? s->str[s->len - 1] + 1 : 'a');
}

START_TEST(cleanups_newest_first)
{
    struct iobus bus;
    GString *order = g_string_new(NULL);
    GString *first = g_string_new(NULL);

    iobus_init(&bus);
    iobus_add_cleanup(&bus, note, first);
    iobus_add_cleanup(&bus, note, order);
    iobus_add_cleanup(&bus, note, order);
    iobus_destroy(&bus);
    ck_assert_str_eq(order->str, "ab");
    ck_assert_str_eq(first->str, "a");
    iobus_destroy(&bus); /* twice is harmless */
    ck_assert_str_eq(order->str, "ab");
    g_string_free(order, TRUE);
    g_string_free(first, TRUE);
}
END_TEST

/* Threads of this process named "stdin" (console_input.c's). */
static unsigned stdin_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", e->d_name);
        g_autofree char *comm = NULL;

        if (e->d_name[0] != '.' && g_file_get_contents(path, &comm, NULL, NULL) &&
            !strcmp(comm, "stdin\n"))
            n++;
    }
    closedir(d);
    return n;
}

/* stdin feeds the UART until its VM is destroyed; the feeding thread then
 * ends instead of touching the freed UART or, later, the closed console
 * (AddressSanitizer reports either; without it the thread never ends). */
START_TEST(stdin_thread_stops_with_the_uart)
{
    struct console *c = test_console();
    struct vm *vm = bare_vm(c);
    uint8_t junk[64];
    int p[2];
    gint64 deadline;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    static const struct device_desc uart = { &uart16550_device, COM1, 8, 4, DEVICE_BOOT_ANY };
    struct device_ctx ctx = { .iobus = &vm->iobus, .console = c, .irq_wired = true };

    /* Interrupts are lost without KVM (said once on stderr); input flows. */
    irq_line_init(&ctx.irq, -1, 4);
    ck_assert(device_realize(&vm->devices, &uart, &ctx, NULL));
    out(vm, COM1 + 1, 0x01);        /* IER: receive interrupt */
    out(vm, COM1 + 4, 0x08);        /* MCR: OUT2 */
    ck_assert_uint_eq(stdin_threads(), 0);
    console_start_input(c);
    memset(junk, 'x', sizeof(junk));
    ck_assert_int_eq(write(p[1], junk, sizeof(junk)), (ssize_t)sizeof(junk));
    /* The 16-byte FIFO fills; the thread keeps retrying the rest. */
    deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (!(in(vm, COM1 + 5) & 0x01) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    ck_assert(in(vm, COM1 + 5) & 0x01); /* LSR: data ready */
    ck_assert_uint_eq(stdin_threads(), 1);

    vm_destroy(vm);
    console_close(c);
    deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (stdin_threads() && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    ck_assert_uint_eq(stdin_threads(), 0);
    close(p[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lifetimes");
    int failed;

    lines = g_ptr_array_new_with_free_func(g_free);
    TCase *tc = tcase_create("devices");

    tcase_add_test(tc, devices_freed_with_their_vm);
    tcase_add_test(tc, panic_banner_after_cut_timestamp);
    tcase_add_test(tc, half_built_vm_freed);
    tcase_add_test(tc, cleanups_newest_first);
    tcase_add_test(tc, stdin_thread_stops_with_the_uart);
    suite_add_tcase(s, tc);
    failed = unit_run(s);
    g_ptr_array_free(lines, TRUE);
    return failed;
}
