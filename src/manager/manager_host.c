/*
 * What a service guest's management calls do (manager_host_call(), which
 * the backend's guest-call hooks reach). They arrive on the caller's vCPU
 * thread; the VM set belongs to the manager's
 * main context, so each call is handed there and waited for with a bound.
 * Meanwhile the calling vCPU counts as still (a stop of its VM is not held
 * up), and a main loop that does not answer in time costs the guest an
 * error, never a hang.
 */
#include <errno.h>

#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/vm-host.h"

/*
 * Who decides a call's fate, under its lock: the main loop takes a
 * waiting call (RUNNING) or the vCPU gives up on it (CANCELLED), never
 * both. So a call the guest saw fail never runs later (a VM_CREATE that
 * timed out creates nothing), and one the main loop has begun is waited
 * for: its result is the guest's, whatever the clock says by then.
 */
typedef enum { HC_WAITING, HC_RUNNING, HC_DONE, HC_CANCELLED } host_call_state;

struct host_call {
    gint refs;
    struct manager *m;
    manager_host_op op;
    uint64_t caller;     /* the calling VM's number */
    struct mvm *caller_mv; /* valid on the caller's vCPU thread only */
    uint64_t arg;        /* image index or target VM number */
    uint64_t out[2];
    int result;
    host_call_state state;
    struct vmm_wait wait; /* its lock guards state, result and out */
};

static void host_call_unref(gpointer data)
{
    struct host_call *hc = data;

    if (g_atomic_int_dec_and_test(&hc->refs)) {
        vmm_wait_clear(&hc->wait);
        g_free(hc);
    }
}

static int errno_of(const GError *e)
{
    if (e->domain != MANAGER_ERROR)
        return -EIO;
    switch (e->code) {
    case MANAGER_ERROR_NO_VM: return -ENOENT;
    case MANAGER_ERROR_STATE: return -EBUSY;
    case MANAGER_ERROR_QUOTA: return -EDQUOT;
    case MANAGER_ERROR_DENIED: return -EPERM;
    default: return -EIO;
    }
}

/* A new VM from image @index would keep @caller within the quota. */
static bool within_quota(struct manager *m, uint64_t caller, const struct vmm_config *cfg)
{
    unsigned n = 1, vcpus = cfg->vcpus;
    uint64_t mem = cfg->memory;

    for (guint i = 0; i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        if (mv->owner == caller) {
            n++;
            vcpus += mv->cfg.vcpus;
            mem += mv->cfg.memory;
        }
    }
    return n <= m->quota.vms && vcpus <= m->quota.vcpus && mem <= m->quota.memory;
}

/* No file is read here: the image was parsed when vmm serve started, and
 * the quota is checked before anything is built. */
static int do_create(struct manager *m, uint64_t caller, uint64_t index, uint64_t *id)
{
    const struct manager_image *img;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    struct mvm *mv;

    if (index >= m->images->len)
        return -ENOENT;
    img = &g_array_index(m->images, struct manager_image, index);
    if (!within_quota(m, caller, &img->cfg))
        return -EDQUOT;
    name = g_strdup_printf("%s-%" G_GUINT64_FORMAT, img->name, m->next_id);
    mv = manager_create_from_image(m, name, index, caller, &err);
    if (!mv)
        return errno_of(err);
    *id = mv->id;
    return 0;
}

/* The target of a call on another VM: it exists and @caller created it. */
static int target(struct manager *m, uint64_t caller, uint64_t id, struct mvm **out)
{
    struct mvm *mv = manager_find_id(m, id);

    if (!mv)
        return -ENOENT;
    if (mv->owner != caller || !mv->policy.manageable)
        return -EPERM;
    *out = mv;
    return 0;
}

static guest_vm_state guest_state(mvm_state s)
{
    switch (s) {
    case MVM_PRELAUNCH: return GUEST_VM_PRELAUNCH;
    case MVM_RUNNING: return GUEST_VM_RUNNING;
    case MVM_PAUSED: return GUEST_VM_PAUSED;
    case MVM_SHUTDOWN:
    default: return GUEST_VM_SHUTDOWN;
    }
}

static int run_op(struct host_call *hc)
{
    struct manager *m = hc->m;
    g_autoptr(GError) err = NULL;
    struct mvm *mv = NULL;
    int r;

    /* The caller may have been destroyed while the call waited. */
    if (!manager_find_id(m, hc->caller))
        return -ENOENT;
    if (hc->op == MANAGER_HOST_CREATE)
        return do_create(m, hc->caller, hc->arg, &hc->out[0]);
    r = target(m, hc->caller, hc->arg, &mv);
    if (r)
        return r;
    switch (hc->op) {
    case MANAGER_HOST_START:
        return manager_start(m, mv->name, &err) ? 0 : errno_of(err);
    case MANAGER_HOST_STOP:
        return manager_end(m, mv, VM_STOP_HOST, VMM_EXIT_SIGNAL_BASE + 15,
                           "stopped by the manager", &err) ? 0 : errno_of(err);
    case MANAGER_HOST_DESTROY:
        manager_destroy_vm(m, mv);
        return 0;
    case MANAGER_HOST_QUERY:
        hc->out[0] = guest_state(mv->state);
        hc->out[1] = mv->stopped ? (uint64_t)mv->exit_status : 0;
        return 0;
    default:
        return -EINVAL;
    }
}

static gboolean host_call_main(gpointer data)
{
    struct host_call *hc = data;
    bool cancelled;
    int r;

    vmm_wait_lock(&hc->wait);
    cancelled = hc->state == HC_CANCELLED;
    if (!cancelled)
        hc->state = HC_RUNNING;
    vmm_wait_unlock(&hc->wait);
    if (cancelled)
        return G_SOURCE_REMOVE;
    r = run_op(hc);
    vmm_wait_lock(&hc->wait);
    hc->result = r;
    hc->state = HC_DONE;
    vmm_wait_wake_locked(&hc->wait);
    vmm_wait_unlock(&hc->wait);
    return G_SOURCE_REMOVE;
}

/* The caller may give the call up: the main loop has not taken it. */
static bool taken_or_caller_stopping(void *data)
{
    struct host_call *hc = data;

    return hc->state != HC_WAITING || hc->m->backend->stopping(hc->caller_mv);
}

static bool host_call_done(void *data)
{
    return ((struct host_call *)data)->state == HC_DONE;
}

int manager_host_call(struct mvm_ref *vm, manager_host_op op, uint64_t arg, uint64_t out[2])
{
    struct manager *m = vm->m;
    struct host_call *hc;
    gint64 deadline;
    GSource *src;
    bool cancelled;
    int r;

    if (m->upstream)
        return m->upstream->host_call(vm, op, arg, out);
    hc = g_new0(struct host_call, 1);
    deadline = vmm_deadline_ms(m->host_call_timeout_ms);
    hc->refs = 2; /* this thread's and the main context's */
    hc->m = m;
    hc->op = op;
    hc->caller = vm->id;
    hc->caller_mv = vm->mv;
    hc->arg = arg;
    vmm_wait_init(&hc->wait);

    m->backend->block(vm->mv, &hc->wait);
    src = g_idle_source_new();
    g_source_set_callback(src, host_call_main, hc, host_call_unref);
    g_source_attach(src, m->ctx);
    vmm_wait_lock(&hc->wait);
    /* Given up at the bound, or at once when the caller's VM stops (its
     * stop wakes this wait), unless the main loop has begun the call:
     * then its result is the guest's, whenever it comes. */
    vmm_wait_until(&hc->wait, deadline, taken_or_caller_stopping, hc);
    if (hc->state == HC_WAITING)
        hc->state = HC_CANCELLED;
    else
        vmm_wait_until(&hc->wait, G_MAXINT64, host_call_done, hc);
    cancelled = hc->state == HC_CANCELLED;
    r = cancelled ? -ETIMEDOUT : hc->result;
    if (!cancelled && out) {
        out[0] = hc->out[0];
        out[1] = hc->out[1];
    }
    vmm_wait_unlock(&hc->wait);
    /* A cancelled call need not wait in the main loop's queue. */
    if (cancelled)
        g_source_destroy(src);
    g_source_unref(src);
    m->backend->unblock(vm->mv, &hc->wait);
    host_call_unref(hc);
    return r;
}

struct denied {
    struct manager *m;
    char *vm;
    uint64_t id;
    unsigned vcpu;
    uint32_t call;
    const char *reason;   /* a static verdict name */
};

static gboolean denied_main(gpointer data)
{
    struct denied *d = data;
    struct manager_event ev = { .kind = MEV_HYPERCALL_DENIED, .vm = d->vm, .id = d->id,
                                .vcpu = d->vcpu, .call = d->call, .reason = d->reason };

    manager_emit(d->m, &ev);
    return G_SOURCE_REMOVE;
}

static void denied_free(gpointer data)
{
    struct denied *d = data;

    g_free(d->vm);
    g_free(d);
}

/* Never waits: the event is posted to the main context. */
void manager_call_refused(struct mvm_ref *vm, unsigned vcpu, uint32_t id, const char *reason)
{
    struct denied *d;
    GSource *src;

    if (vm->m->upstream) {
        vm->m->upstream->call_refused(vm, vcpu, id, reason);
        return;
    }
    d = g_new0(struct denied, 1);
    src = g_idle_source_new();
    d->m = vm->m;
    d->vm = g_strdup(vm->mv->name);
    d->id = vm->id;
    d->vcpu = vcpu;
    d->call = id;
    d->reason = reason;
    g_source_set_callback(src, denied_main, d, denied_free);
    g_source_attach(src, d->m->ctx);
    g_source_unref(src);
}
