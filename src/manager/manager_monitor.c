/*
 * Guest calls answered by an external monitor (a control socket client
 * that claimed a range of function IDs with monitor-calls). The policy
 * decides first: only a call it allows reaches forward_call. The calling
 * vCPU then waits, as still as a paused one, for the monitor's call-return,
 * at most the claim's bound; a monitor that is too slow or has gone is
 * marked dead, and its pending and later calls get the refusal their
 * conduit gives (SMCCC NOT_SUPPORTED, -EINVAL on x86). The VM runs on.
 */
#include <string.h>

#include "vmm/manager.h"

struct fwd_call {
    gint refs;
    uint64_t token;
    struct manager_claim *claim;
    const void *owner;
    bool done, answered;        /* under m->monitor's lock, which it waits on */
    uint64_t ret[4];
    struct mvm *mv;             /* the calling VM: valid on its vCPU thread */
    /* for the event */
    struct manager *m;
    char *vm;
    uint64_t id;
    unsigned vcpu;
    uint32_t call;
    call_conduit conduit;
    uint64_t args[4];
};

static void fwd_unref(gpointer data)
{
    struct fwd_call *f = data;

    if (g_atomic_int_dec_and_test(&f->refs)) {
        g_free(f->vm);
        g_free(f);
    }
}

static const char *conduit_name(call_conduit c)
{
    switch (c) {
    case CONDUIT_VMCALL: return "vmcall";
    case CONDUIT_HVC: return "hvc";
    case CONDUIT_SMC: return "smc";
    case CONDUIT_UCALL: return "ucall";
    }
    return "?";
}

bool manager_monitor_calls(struct manager *m, const char *name, const void *owner,
                           uint32_t first, uint32_t last, unsigned timeout_ms, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);
    struct manager_claim c = { first, last, owner, timeout_ms, 0 };

    if (!mv)
        return false;
    if (mv->state != MVM_PRELAUNCH) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_STATE,
                    "VM '%s' is %s: calls can be claimed only before it first runs",
                    mv->name, mvm_state_name(mv->state));
        return false;
    }
    if (first > last) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "'first' (%#x) is above 'last' (%#x)", first, last);
        return false;
    }
    if (!mv->claims)
        mv->claims = g_array_new(FALSE, FALSE, sizeof(struct manager_claim));
    for (guint i = 0; i < mv->claims->len; i++) {
        const struct manager_claim *o = &g_array_index(mv->claims, struct manager_claim, i);

        /* A dead claim still holds its range: its calls stay refused. */
        if (first <= o->last && o->first <= last) {
            g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_EXISTS,
                        "calls %#x-%#x of VM '%s' are claimed already (%#x-%#x)", first, last,
                        mv->name, o->first, o->last);
            return false;
        }
    }
    g_array_append_val(mv->claims, c);
    return true;
}

static gboolean emit_guest_call(gpointer data)
{
    struct fwd_call *f = data;
    struct manager_event ev = {
        .kind = MEV_GUEST_CALL, .vm = f->vm, .id = f->id, .vcpu = f->vcpu, .call = f->call,
        .conduit = conduit_name(f->conduit), .token = f->token, .target = f->owner,
    };
    bool live;

    vmm_wait_lock(&f->m->monitor);
    live = !f->done;
    vmm_wait_unlock(&f->m->monitor);
    memcpy(ev.args, f->args, sizeof(ev.args));
    if (live)
        manager_emit(f->m, &ev);
    return G_SOURCE_REMOVE;
}

/* Answered or given up, or its VM is stopping. */
static bool answered_or_stopping(void *data)
{
    struct fwd_call *f = data;

    return f->done || f->m->backend->stopping(f->mv);
}

bool manager_forward_call(struct mvm_ref *vm, unsigned vcpu, struct guest_call *call,
                          call_status *status)
{
    struct manager *m = vm->m;
    struct mvm *mv = vm->mv;
    GArray *claims = mv->claims;
    struct manager_claim *c = NULL;
    struct fwd_call *f;
    GSource *src;
    bool stopping;

    if (m->upstream)
        return m->upstream->forward_call(vm, vcpu, call, status);
    for (guint i = 0; claims && i < claims->len && !c; i++) {
        struct manager_claim *o = &g_array_index(claims, struct manager_claim, i);

        if (call->id >= o->first && call->id <= o->last)
            c = o;
    }
    if (!c)
        return false;
    *status = CALL_NOT_SUPPORTED;
    memset(call->ret, 0, sizeof(call->ret));
    if (__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE))
        return true;
    /* The monitor sees all four arguments, whatever the call's own take. */
    if (!call_need_args(call, 4))
        return true;

    f = g_new0(struct fwd_call, 1);
    f->refs = 2; /* this thread's, and the event's */
    f->claim = c;
    f->m = m;
    f->mv = mv;
    f->vm = g_strdup(mv->name);
    f->id = vm->id;
    f->vcpu = vcpu;
    f->call = call->id;
    f->conduit = call->conduit;
    memcpy(f->args, call->args, sizeof(f->args));
    vmm_wait_lock(&m->monitor);
    f->owner = c->owner;
    f->token = m->next_token++;
    g_hash_table_insert(m->pending, &f->token, f);
    vmm_wait_unlock(&m->monitor);

    src = g_idle_source_new();
    g_source_set_callback(src, emit_guest_call, f, fwd_unref);
    g_source_attach(src, m->ctx);
    g_source_unref(src);

    m->backend->block(mv, &m->monitor);
    vmm_wait_lock(&m->monitor);
    /* A stop of this VM wakes the wait and ends it. */
    vmm_wait_until(&m->monitor, vmm_deadline_ms(c->timeout_ms), answered_or_stopping, f);
    if (!f->done) {
        /* Too slow: from now on its range is refused without asking. */
        f->done = true;
        g_hash_table_remove(m->pending, &f->token);
        stopping = m->backend->stopping(mv);
        if (!stopping)
            __atomic_store_n(&c->dead, 1, __ATOMIC_RELEASE);
    }
    if (f->answered) {
        memcpy(call->ret, f->ret, sizeof(call->ret));
        *status = CALL_OK;
    }
    vmm_wait_unlock(&m->monitor);
    m->backend->unblock(mv, &m->monitor);
    fwd_unref(f);
    return true;
}

bool manager_call_return(struct manager *m, const void *owner, uint64_t token,
                         const uint64_t *results, unsigned n, GError **error)
{
    struct fwd_call *f;
    bool ok;

    vmm_wait_lock(&m->monitor);
    f = g_hash_table_lookup(m->pending, &token);
    ok = f && f->owner == owner;
    if (ok) {
        memcpy(f->ret, results, MIN(n, 4u) * sizeof(uint64_t));
        f->answered = f->done = true;
        g_hash_table_remove(m->pending, &token);
        vmm_wait_wake_locked(&m->monitor);
    }
    vmm_wait_unlock(&m->monitor);
    if (!ok) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "No call with token %" G_GUINT64_FORMAT " is waiting for this client "
                    "(answered, timed out, or never sent to it)", token);
        return false;
    }
    return true;
}

void manager_monitor_gone(struct manager *m, const void *owner)
{
    GHashTableIter it;
    gpointer key, value;

    vmm_wait_lock(&m->monitor);
    for (guint i = 0; i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        for (guint j = 0; mv->claims && j < mv->claims->len; j++) {
            struct manager_claim *c = &g_array_index(mv->claims, struct manager_claim, j);

            if (c->owner == owner) {
                __atomic_store_n(&c->dead, 1, __ATOMIC_RELEASE);
                c->owner = NULL;
            }
        }
    }
    g_hash_table_iter_init(&it, m->pending);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct fwd_call *f = value;

        if (f->owner == owner) {
            f->done = true;
            g_hash_table_iter_remove(&it);
        }
    }
    vmm_wait_wake_locked(&m->monitor);
    vmm_wait_unlock(&m->monitor);
}
