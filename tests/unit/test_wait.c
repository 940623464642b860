/*
 * The wait primitive (src/base/wait.c): a wait ends when what it waits for
 * holds (woken by the thread that made it so), or at its deadline, never
 * later; and a VM's stop wakes the waits its vCPUs block in (vm.c), so a
 * vCPU waiting on a condition of its own sees the stop at once.
 */
#include <check.h>

#include "vmm/vm.h"
#include "vmm/wait.h"

#include "unit.h"

struct flag {
    struct vmm_wait w;
    bool set;
    unsigned delay_ms;
};

static bool flag_set(void *data)
{
    return ((struct flag *)data)->set;
}

static gpointer set_later(gpointer data)
{
    struct flag *f = data;

    g_usleep(f->delay_ms * 1000);
    vmm_wait_lock(&f->w);
    f->set = true;
    vmm_wait_wake_locked(&f->w);
    vmm_wait_unlock(&f->w);
    return NULL;
}

START_TEST(woken_before_the_deadline)
{
    struct flag f = { .delay_ms = 20 };
    gint64 t0 = g_get_monotonic_time();
    GThread *t;
    bool done;

    vmm_wait_init(&f.w);
    t = g_thread_new("setter", set_later, &f);
    vmm_wait_lock(&f.w);
    done = vmm_wait_until(&f.w, vmm_deadline_ms(600000), flag_set, &f);
    vmm_wait_unlock(&f.w);
    g_thread_join(t);
    ck_assert(done);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 60 * G_TIME_SPAN_SECOND);
    vmm_wait_clear(&f.w);
}
END_TEST

START_TEST(ends_at_the_deadline)
{
    struct flag f = { 0 };
    gint64 t0 = g_get_monotonic_time();
    bool done;

    vmm_wait_init(&f.w);
    vmm_wait_lock(&f.w);
    done = vmm_wait_until(&f.w, vmm_deadline_ms(50), flag_set, &f);
    vmm_wait_unlock(&f.w);
    ck_assert(!done);
    ck_assert_int_ge(g_get_monotonic_time() - t0, 50 * G_TIME_SPAN_MILLISECOND);
    vmm_wait_clear(&f.w);
}
END_TEST

/* What a vCPU blocked in a host call does: its own condition, which the
 * VM's stop must end. */
struct blocked {
    struct vm *vm;
    struct vmm_wait w;
    bool stopped_seen;
};

static bool vm_stopping_now(void *data)
{
    return vm_is_stopping(((struct blocked *)data)->vm);
}

static gpointer block_on_vm(gpointer data)
{
    struct blocked *b = data;

    vm_blocking_begin(b->vm, &b->w);
    vmm_wait_lock(&b->w);
    b->stopped_seen = vmm_wait_until(&b->w, vmm_deadline_ms(600000), vm_stopping_now, b);
    vmm_wait_unlock(&b->w);
    vm_blocking_end(b->vm, &b->w);
    return NULL;
}

START_TEST(vm_stop_wakes_blocked_waits)
{
    struct vm *vm = g_new0(struct vm, 1);
    struct blocked b = { .vm = vm };
    gint64 t0 = g_get_monotonic_time();
    GThread *t;

    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    vm->name = g_strdup("w");
    vmm_wait_init(&b.w);
    t = g_thread_new("vcpu", block_on_vm, &b);
    /* until it is blocked: then only the stop can end its wait */
    for (;;) {
        unsigned q;

        g_mutex_lock(&vm->lock);
        q = vm->quiescent;
        g_mutex_unlock(&vm->lock);
        if (q)
            break;
        g_usleep(1000);
    }
    vm_stop(vm, VM_STOP_HOST, 143, NULL);
    g_thread_join(t);
    ck_assert(b.stopped_seen);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 60 * G_TIME_SPAN_SECOND);
    ck_assert_ptr_null(vm->waits);
    ck_assert_uint_eq(vm->quiescent, 0);
    vmm_wait_clear(&b.w);
    g_mutex_clear(&vm->lock);
    g_cond_clear(&vm->cond);
    g_free(vm->stop.message);
    g_free(vm->name);
    g_free(vm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wait");
    TCase *tc = tcase_create("wait");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, woken_before_the_deadline);
    tcase_add_test(tc, ends_at_the_deadline);
    tcase_add_test(tc, vm_stop_wakes_blocked_waits);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
