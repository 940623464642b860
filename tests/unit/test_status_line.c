/*
 * [console] status-line: the "EXIT: STATUS=n" line matcher
 * (src/core/console_status.c) and what a VM's stop makes of it
 * (vm_stop in src/core/vm.c): n >> 1 on a power-off or reset when the
 * option is on, nothing at all when it is off.
 */
#include <check.h>
#include <stdio.h>

#include "vmm/console_status.h"
#include "vmm/error.h"
#include "vmm/vm.h"

#include "unit.h"

/* @text fed in pieces of @step bytes; the last status seen, or -1. */
static int64_t feed(const char *text, size_t step)
{
    struct status_line m = { 0 };
    size_t len = strlen(text);
    int64_t last = -1;

    for (size_t at = 0; at < len; at += step) {
        uint64_t n;

        if (status_line_feed(&m, text + at, MIN(step, len - at), &n))
            last = (int64_t)n;
    }
    return last;
}

/* Every split of the same output gives the same answer. */
static void expect(const char *text, int64_t status)
{
    for (size_t step = 1; step <= strlen(text) + 1; step++)
        ck_assert_msg(feed(text, step) == status, "\"%s\" in pieces of %zu: %" G_GINT64_FORMAT
                      ", expected %" G_GINT64_FORMAT, text, step, feed(text, step), status);
}

START_TEST(whole_lines_only)
{
    expect("EXIT: STATUS=1\n", 1);
    expect("\nEXIT: STATUS=3\n", 3);             /* as kvm-unit-tests prints it */
    expect("PASS: x\r\nEXIT: STATUS=1\r\n", 1);  /* CRLF */
    expect("log\rEXIT: STATUS=7\r", 7);          /* CR alone ends lines too */
    expect("EXIT: STATUS=1", -1);                /* unfinished: not reported */
    expect("EXIT: STATUS=\n", -1);               /* no digits */
    expect(" EXIT: STATUS=1\n", -1);             /* something before it */
    expect("xEXIT: STATUS=1\n", -1);
    expect("EXIT: STATUS=1 \n", -1);             /* or after it */
    expect("EXIT: STATUS=1x\n", -1);
    expect("EXIT: STATUS=-1\n", -1);
    expect("EXIT: STATUS=0x3\n", -1);
    expect("exit: status=1\n", -1);              /* case matters */
    expect("EXIT:  STATUS=1\n", -1);
    expect("the test said EXIT: STATUS=1\n", -1);
    {
        struct status_line m = { 0 };
        uint64_t n = 0;

        /* A NUL is a byte like any other: this line is not a status line. */
        ck_assert(!status_line_feed(&m, "EXIT: STATUS=1\0\n", 16, &n));
        ck_assert(status_line_feed(&m, "EXIT: STATUS=1\n", 15, &n));
        ck_assert_uint_eq(n, 1);
    }
    expect("EXIT: EXIT: STATUS=1\n", -1);
}
END_TEST

START_TEST(last_line_wins)
{
    expect("EXIT: STATUS=3\nEXIT: STATUS=1\n", 1);
    expect("EXIT: STATUS=1\nEXIT: STATUS=3\n", 3);
    /* A bad line after a good one leaves the good one standing. */
    expect("EXIT: STATUS=5\nEXIT: STATUS=1 garbage\n", 5);
    /* A long garbage line, then a good one. */
    {
        GString *s = g_string_new(NULL);

        for (int i = 0; i < 5000; i++)
            g_string_append_c(s, 'E');
        g_string_append(s, "\nEXIT: STATUS=9\n");
        ck_assert_int_eq(feed(s->str, 1), 9);
        ck_assert_int_eq(feed(s->str, 4096), 9);
        g_string_free(s, TRUE);
    }
}
END_TEST

/* Past 32 bits the value saturates: a huge status is never a success
 * (nor wraps around to 0 or 1). */
START_TEST(huge_values_saturate)
{
    expect("EXIT: STATUS=4294967295\n", 4294967295LL);
    expect("EXIT: STATUS=4294967296\n", STATUS_LINE_MAX);
    expect("EXIT: STATUS=18446744073709551617\n", STATUS_LINE_MAX);
    expect("EXIT: STATUS=000000000000000000000000000000000000000001\n", 1);
    {
        GString *s = g_string_new("EXIT: STATUS=");

        for (int i = 0; i < 10000; i++)
            g_string_append_c(s, '9');
        g_string_append_c(s, '\n');
        ck_assert_int_eq(feed(s->str, 7), STATUS_LINE_MAX);
        g_string_free(s, TRUE);
    }
}
END_TEST

/* The stop side, on a VM without KVM (no vCPUs). */
static struct vm *fake_vm(bool status_from_line)
{
    struct vm *vm = g_new0(struct vm, 1);

    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    vm->status_line = -1;
    vm->status_from_line = status_from_line;
    return vm;
}

static void fake_vm_free(struct vm *vm)
{
    g_free(vm->stop.message);
    g_free(vm->panic_line);
    g_mutex_clear(&vm->lock);
    g_cond_clear(&vm->cond);
    g_free(vm);
}

/* The status of a VM that saw status line @n (-1: none) and stopped by
 * @reason with @status. */
static int stop_status(bool on, int64_t n, vm_stop_reason reason, int status, bool panic)
{
    struct vm *vm = fake_vm(on);
    int st;

    if (n >= 0)
        vm_note_status_line(vm, n);
    if (panic)
        vm_note_panic(vm, "Kernel panic - not syncing: x");
    vm_stop(vm, reason, status, NULL);
    st = vm->stop.status;
    fake_vm_free(vm);
    return st;
}

START_TEST(stop_takes_the_line_when_on)
{
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_POWEROFF, 0, false), 0);
    ck_assert_int_eq(stop_status(true, 3, VM_STOP_POWEROFF, 0, false), 1);
    ck_assert_int_eq(stop_status(true, 129, VM_STOP_RESET, 0, false), 64);
    ck_assert_int_eq(stop_status(true, 239, VM_STOP_POWEROFF, 0, false), 119);
    ck_assert_int_eq(stop_status(true, 241, VM_STOP_POWEROFF, 0, false), 119);
    ck_assert_int_eq(stop_status(true, STATUS_LINE_MAX, VM_STOP_POWEROFF, 0, false), 119);
    /* A power-off without a report is no success. */
    ck_assert_int_eq(stop_status(true, -1, VM_STOP_POWEROFF, 0, false), 1);
    ck_assert_int_eq(stop_status(true, -1, VM_STOP_RESET, 0, false), 1);
    /* Everything else keeps its status. */
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_GUEST_EXIT, 7, false), 7);
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_CRASH, VMM_EXIT_CRASHED, false),
                     VMM_EXIT_CRASHED);
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT, false),
                     VMM_EXIT_TIMEOUT);
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_SIGNAL, 143, false), 143);
    ck_assert_int_eq(stop_status(true, 1, VM_STOP_POWEROFF, 0, true), VMM_EXIT_PANIC);
}
END_TEST

START_TEST(stop_ignores_the_line_when_off)
{
    ck_assert_int_eq(stop_status(false, 3, VM_STOP_POWEROFF, 0, false), 0);
    ck_assert_int_eq(stop_status(false, 3, VM_STOP_RESET, 0, false), 0);
    ck_assert_int_eq(stop_status(false, -1, VM_STOP_POWEROFF, 0, false), 0);
    ck_assert_int_eq(stop_status(false, 3, VM_STOP_GUEST_EXIT, 5, false), 5);
}
END_TEST

/* The message says why: the user sees it on stderr. */
START_TEST(stop_messages)
{
    struct vm *vm = fake_vm(true);

    vm_stop(vm, VM_STOP_POWEROFF, 0, NULL);
    ck_assert_ptr_nonnull(strstr(vm->stop.message, "without an \"EXIT: STATUS=n\""));
    fake_vm_free(vm);
    vm = fake_vm(true);
    vm_note_status_line(vm, 1001);
    vm_stop(vm, VM_STOP_POWEROFF, 0, NULL);
    ck_assert_str_eq(vm->stop.message, "guest status line EXIT: STATUS=1001 gives 500, above "
                     "119 (reserved for vmm): reported as 119");
    fake_vm_free(vm);
    vm = fake_vm(true);
    vm_note_status_line(vm, 1);
    vm_stop(vm, VM_STOP_POWEROFF, 0, NULL);
    ck_assert_ptr_null(vm->stop.message);
    fake_vm_free(vm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status-line");
    TCase *tc = tcase_create("status-line");

    tcase_add_test(tc, whole_lines_only);
    tcase_add_test(tc, last_line_wins);
    tcase_add_test(tc, huge_values_saturate);
    tcase_add_test(tc, stop_takes_the_line_when_on);
    tcase_add_test(tc, stop_ignores_the_line_when_off);
    tcase_add_test(tc, stop_messages);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
