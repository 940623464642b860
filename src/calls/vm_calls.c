/*
 * A VM's guest-call state (struct vm_calls) and the hooks through which
 * core reaches it: made with the VM, fixed when the VM first runs, freed
 * with it. Core sees none of this but the pointer and vm_calls_ops.
 */
#include "vmm/arch.h"
#include "vmm/calls.h"
#include "vmm/error.h"
#include "vmm/vm.h"

struct vm_calls *vm_calls_new(void)
{
    struct vm_calls *c = g_new0(struct vm_calls, 1);

    g_mutex_init(&c->lock);
    policy_init(&c->policy);
    call_stats_init(&c->stats);
    return c;
}

void vm_calls_free(struct vm_calls *c)
{
    if (!c)
        return;
    call_stats_clear(&c->stats);
    g_mutex_clear(&c->lock);
    g_free(c);
}

bool vm_set_policy(struct vm *vm, const struct vm_policy *policy, GError **error)
{
    struct vm_calls *c = vm->calls;
    bool frozen;

    g_mutex_lock(&c->lock);
    frozen = c->policy.frozen;
    if (!frozen) {
        c->policy = *policy;
        c->policy.frozen = false;
        policy_update(&c->policy);
    }
    g_mutex_unlock(&c->lock);
    if (frozen)
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: the policy is fixed once the VM has run", vm->name);
    return !frozen;
}

/* From vm_start(), before any vCPU thread: from here on what a guest may
 * call never changes, and KVM holds the parts it enforces. */
static bool vm_calls_start(struct vm *vm, GError **error)
{
    struct vm_calls *c = vm->calls;

    g_mutex_lock(&c->lock);
    c->policy.frozen = true;
    g_mutex_unlock(&c->lock);
    return arch_vm_apply_policy(vm, &c->policy, error);
}

const struct vm_calls_ops vm_calls_ops = {
    .create = vm_calls_new,
    .start = vm_calls_start,
    .destroy = vm_calls_free,
};
