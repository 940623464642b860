/*
 * The guest call table and the one dispatch path every conduit uses.
 * Handlers for the calls themselves live in calls_*.c; this file only
 * decides, counts and logs.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/calls.h"
#include "vmm/error.h"
#include "vmm/vm-host.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"

/* Who may make a call: VMM_CALL_LIST's perm column. */
#define CALL_PERM_INFO GUEST_FLAG(GUEST_FLAG_INFO)
#define CALL_PERM_CONSOLE GUEST_FLAG(GUEST_FLAG_CONSOLE)
#define CALL_PERM_UCALL GUEST_FLAG(GUEST_FLAG_UCALL)
#define CALL_PERM_SERVICE_ONLY 0

#define CALL_ENTRY(c, id, name_, handler_, perm_, service_, results, nargs, probe_, ...) \
    { .first = (id), .last = (id), .name = (name_), .handler = (handler_), \
      .perm = CALL_PERM_##perm_, .service = SVC_##service_, .nr_results = (results), \
      .nr_args = (nargs), .probe = (probe_) },
const struct call_entry call_table[] = {
    VMM_CALL_LIST(CALL_ENTRY)
};
#undef CALL_ENTRY
const size_t call_table_len = G_N_ELEMENTS(call_table);

const char *const call_verdict_names[CALL_VERDICT_COUNT] = {
    [CALL_ALLOWED] = "allowed",
    [CALL_REFUSED_NO_CALLS] = "no-calls",
    [CALL_REFUSED_PRIVILEGE] = "privilege",
    [CALL_REFUSED_UNKNOWN] = "unknown",
    [CALL_REFUSED_SERVICE] = "service-disabled",
    [CALL_REFUSED_ROLE] = "service-only",
    [CALL_REFUSED_FLAGS] = "missing-flags",
};
G_STATIC_ASSERT(G_N_ELEMENTS(call_verdict_names) == CALL_VERDICT_COUNT);

bool call_table_check(void)
{
    for (size_t i = 0; i < call_table_len; i++) {
        const struct call_entry *e = &call_table[i];

        if (e->first > e->last || (i && call_table[i - 1].last >= e->first) ||
            !e->handler || e->nr_results > 4 || e->nr_args > 4 || e->service >= SVC_COUNT)
            return false;
    }
    return true;
}

/* Each entry's index in call_table, by its constant. */
#define CALL_INDEX(c, ...) CALL_INDEX_##c,
enum { VMM_CALL_LIST(CALL_INDEX) CALL_COUNT };
#undef CALL_INDEX

/* vmm's own range, looked up by offset on the path of every call: entry
 * index + 1 per ID, 0 for none. An entry outside the range gets a slot of
 * its own past it, never read, so that the list expands without a test. */
#define RANGE_SLOTS (VMM_CALL_LAST - VMM_CALL_BASE + 1)
#define BY_OFFSET(c, id, ...) \
    [(id) >= VMM_CALL_BASE && (id) <= VMM_CALL_LAST ? (id) - VMM_CALL_BASE \
                                                    : RANGE_SLOTS + CALL_INDEX_##c] = \
        CALL_INDEX_##c + 1,
static const uint8_t call_by_offset[RANGE_SLOTS + CALL_COUNT] = {
    VMM_CALL_LIST(BY_OFFSET)
};
#undef BY_OFFSET
G_STATIC_ASSERT(CALL_COUNT < UINT8_MAX);

/* The dispatcher inlines its own copies of call_lookup(), call_decide()
 * and call_need_args(): GCC never inlines an exported function of
 * position-independent code (it could be interposed), and the calls cost
 * as much as the functions. */
static inline const struct call_entry *lookup(uint32_t id)
{
    size_t lo = 0, hi = call_table_len;

    if (id - VMM_CALL_BASE < RANGE_SLOTS) {
        unsigned i = call_by_offset[id - VMM_CALL_BASE];

        return i ? &call_table[i - 1] : NULL;
    }
    /* The few outside it (SMCCC's vendor-hypervisor queries): bisection. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct call_entry *e = &call_table[mid];

        if (id < e->first)
            hi = mid;
        else if (id > e->last)
            lo = mid + 1;
        else
            return e;
    }
    return NULL;
}

const struct call_entry *call_lookup(uint32_t id)
{
    return lookup(id);
}

static inline call_verdict decide(const struct vm_policy *p, const struct call_entry *e,
                                  unsigned privilege)
{
    if (!p->may_call)
        return CALL_REFUSED_NO_CALLS;
    if (privilege != 0)
        return CALL_REFUSED_PRIVILEGE;
    if (!e)
        return CALL_REFUSED_UNKNOWN;
    if (!(p->services & SVC_BIT(e->service)))
        return CALL_REFUSED_SERVICE;
    if (e->perm == 0)
        return p->role == VM_ROLE_SERVICE ? CALL_ALLOWED : CALL_REFUSED_ROLE;
    if ((p->flags & e->perm) != e->perm)
        return CALL_REFUSED_FLAGS;
    return CALL_ALLOWED;
}

call_verdict call_decide(const struct vm_policy *p, const struct call_entry *e,
                         unsigned privilege)
{
    return decide(p, e, privilege);
}

void call_stats_init(struct call_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->count = g_malloc0_n(call_table_len + 1, sizeof(*s->count));
    s->sync_tokens = SYNC_LOG_BURST;
    s->sync_refilled = g_get_monotonic_time();
    g_mutex_init(&s->log_lock);
}

void call_stats_clear(struct call_stats *s)
{
    if (!s->count)
        return;
    g_free(s->count);
    s->count = NULL;
    g_mutex_clear(&s->log_lock);
}

uint64_t call_stats_get(const struct call_stats *s, size_t entry, call_verdict v)
{
    return __atomic_load_n(&s->count[entry][v], __ATOMIC_RELAXED);
}

/* Lines per second per VM about what its guest does (refused calls, ucall
 * sync) before they are only counted: a guest must not flood the log. */
#define REFUSAL_LOG_BURST 10

static bool refusal_log_allowed(struct call_stats *s, unsigned *suppressed)
{
    gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
    bool ok;

    g_mutex_lock(&s->log_lock);
    *suppressed = 0;
    if (now != s->log_window) {
        *suppressed = s->log_suppressed;
        s->log_window = now;
        s->log_lines = 0;
        s->log_suppressed = 0;
    }
    ok = s->log_lines < REFUSAL_LOG_BURST;
    if (ok)
        s->log_lines++;
    else
        s->log_suppressed++;
    g_mutex_unlock(&s->log_lock);
    return ok;
}

void call_log_guest(struct vcpu *vcpu, const char *fmt, ...)
{
    struct vm *vm = vcpu->vm;
    unsigned suppressed;
    g_autofree char *msg = NULL;
    va_list ap;

    if (!refusal_log_allowed(&vm->calls->stats, &suppressed))
        return;
    if (suppressed)
        vmm_log("%s: %u more lines about its calls not shown", vm->name, suppressed);
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vmm_log("%s: vCPU %u: %s", vm->name, vcpu->id, msg);
}

void call_log_sync(struct vcpu *vcpu, uint64_t stage)
{
    struct call_stats *s = &vcpu->vm->calls->stats;
    gint64 now = g_get_monotonic_time();
    unsigned suppressed = 0;
    bool ok;

    g_mutex_lock(&s->log_lock);
    s->sync_tokens = MIN((double)SYNC_LOG_BURST, s->sync_tokens +
                         (double)(now - s->sync_refilled) * SYNC_LOG_RATE / G_USEC_PER_SEC);
    s->sync_refilled = now;
    ok = s->sync_tokens >= 1;
    if (ok) {
        s->sync_tokens -= 1;
        suppressed = s->sync_suppressed;
        s->sync_suppressed = 0;
    } else {
        s->sync_suppressed++;
    }
    g_mutex_unlock(&s->log_lock);
    if (!ok)
        return;
    if (suppressed)
        vmm_log("%s: %u more syncs not shown", vcpu->vm->name, suppressed);
    vmm_log("%s: vCPU %u: sync %llu", vcpu->vm->name, vcpu->id, (unsigned long long)stage);
}

static const char *const conduit_names[] = {
    [CONDUIT_VMCALL] = "vmcall", [CONDUIT_HVC] = "hvc", [CONDUIT_SMC] = "smc",
    [CONDUIT_UCALL] = "ucall",
};

/* One log line, and one event for the manager, under the same rate limit. */
static void call_report_refusal(struct vcpu *vcpu, const struct guest_call *call,
                                const struct call_entry *e, call_verdict v)
{
    struct vm *vm = vcpu->vm;
    const struct vm_host_ops *host = vm->calls->host;
    unsigned suppressed;

    if ((e && e->probe) || !refusal_log_allowed(&vm->calls->stats, &suppressed))
        return;
    if (suppressed)
        vmm_log("%s: %u more lines about its calls not shown", vm->name, suppressed);
    vmm_log("%s: vCPU %u: %s call %#x (%s) refused: %s", vm->name, vcpu->id,
            conduit_names[call->conduit], call->id, e ? e->name : "unknown",
            call_verdict_names[v]);
    if (host && host->call_refused)
        host->call_refused(vm, vcpu->id, call->id, call_verdict_names[v]);
}

static inline bool need_args(struct guest_call *call, unsigned n)
{
    if (!call->read_args || n <= call->nr_args_read)
        return true;
    if (!call->read_args(call, n))
        return false;
    call->nr_args_read = n;
    return true;
}

bool call_need_args(struct guest_call *call, unsigned n)
{
    return need_args(call, n);
}

call_verdict call_dispatch(struct vcpu *vcpu, struct guest_call *call, call_status *status)
{
    struct vm_calls *c = vcpu->vm->calls;
    const struct call_entry *e = lookup(call->id);
    call_verdict v = decide(&c->policy, e, call->privilege);
    size_t slot = e ? (size_t)(e - call_table) : call_table_len;

    /* The refusal is the answer until a handler says otherwise. */
    memset(call->ret, 0, sizeof(call->ret));
    *status = CALL_NOT_SUPPORTED;
    __atomic_fetch_add(&c->stats.count[slot][v], 1, __ATOMIC_RELAXED);
    if (v == CALL_ALLOWED) {
        /* The policy has spoken; only then may a monitor take the call
         * (it reads all four arguments: call_need_args). */
        if (c->host && c->host->forward_call && c->host->forward_call(vcpu, call, status)) {
            call->nr_results = 4;
            return v;
        }
        if (need_args(call, e->nr_args)) {
            *status = e->handler(vcpu, call);
            call->nr_results = e->nr_results;
        }
        return v;
    }
    call_report_refusal(vcpu, call, e, v);
    return v;
}
