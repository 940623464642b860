/* The manager's fake backend (fake_backend.h). */
#include "fake_backend.h"

struct fake_counts fake;

struct fake_vm {
    GMutex lock;
    struct vm_stop stop;      /* the first stop's */
    int stopping;             /* atomic */
    unsigned blocked;
    GSList *waits;            /* struct vmm_wait *: woken by a stop */
    struct call_stats stats;
};

static bool fake_build(struct manager *m, struct mvm *mv, GError **error)
{
    struct fake_vm *vm;

    if (fake.fail_build) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "fake build failure");
        return false;
    }
    g_usleep(fake.build_delay_ms * 1000);
    vm = g_new0(struct fake_vm, 1);
    g_mutex_init(&vm->lock);
    call_stats_init(&vm->stats);
    mv->vm = vm;
    fake.last_built = mv;
    fake.builds++;
    return true;
}

static bool fake_start(struct mvm *mv, GError **error)
{
    fake.starts++;
    return true;
}

static bool fake_pause(struct mvm *mv, GError **error)
{
    fake.pauses++;
    return true;
}

static void fake_resume(struct mvm *mv)
{
    fake.resumes++;
}

void fake_vm_stop(struct mvm *mv, vm_stop_reason reason, int status, const char *message,
                  bool report)
{
    struct fake_vm *vm = mv->vm;

    g_mutex_lock(&vm->lock);
    if (vm->stop.reason == VM_STOP_NONE) {
        vm->stop.reason = reason;
        vm->stop.status = status;
        vm->stop.message = g_strdup(message);
        __atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
        for (GSList *l = vm->waits; l; l = l->next)
            vmm_wait_wake(l->data);
    }
    g_mutex_unlock(&vm->lock);
    if (report)
        manager_vm_stopped(mv->build_ref);
}

/* As a real VM's last vCPU thread would: record the stop, report it. */
static void fake_stop(struct mvm *mv, vm_stop_reason reason, int status, const char *message)
{
    fake_vm_stop(mv, reason, status, message, true);
    fake.stops++;
}

static void fake_teardown(struct mvm *mv)
{
    struct fake_vm *vm = mv->vm;

    g_assert(!vm->blocked && !vm->waits);
    call_stats_clear(&vm->stats);
    g_mutex_clear(&vm->lock);
    g_free(vm->stop.message);
    g_free(vm);
    fake.teardowns++;
}

static const struct vm_stop *fake_stop_report(struct mvm *mv)
{
    return &((struct fake_vm *)mv->vm)->stop;
}

static const struct call_stats *fake_call_stats(struct mvm *mv)
{
    fake.stats_reads++;
    return &((struct fake_vm *)mv->vm)->stats;
}

static void fake_block(struct mvm *mv, struct vmm_wait *wake)
{
    struct fake_vm *vm = mv->vm;

    g_mutex_lock(&vm->lock);
    vm->blocked++;
    vm->waits = g_slist_prepend(vm->waits, wake);
    g_mutex_unlock(&vm->lock);
}

static void fake_unblock(struct mvm *mv, struct vmm_wait *wake)
{
    struct fake_vm *vm = mv->vm;

    g_mutex_lock(&vm->lock);
    vm->blocked--;
    vm->waits = g_slist_remove(vm->waits, wake);
    g_mutex_unlock(&vm->lock);
}

static bool fake_stopping(struct mvm *mv)
{
    return __atomic_load_n(&((struct fake_vm *)mv->vm)->stopping, __ATOMIC_ACQUIRE);
}

unsigned fake_vm_blocked(struct mvm *mv)
{
    struct fake_vm *vm = mv->vm;
    unsigned n;

    g_mutex_lock(&vm->lock);
    n = vm->blocked;
    g_mutex_unlock(&vm->lock);
    return n;
}

const struct manager_backend fake_backend = {
    .build = fake_build,
    .start = fake_start,
    .pause = fake_pause,
    .resume = fake_resume,
    .stop = fake_stop,
    .teardown = fake_teardown,
    .stop_report = fake_stop_report,
    .call_stats = fake_call_stats,
    .block = fake_block,
    .unblock = fake_unblock,
    .stopping = fake_stopping,
};
