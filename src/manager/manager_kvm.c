/*
 * The manager's KVM backend: a managed VM is a struct vm (vm.c). The one
 * manager file that knows struct vm: it drives the VM for the manager,
 * and turns the VM's hooks (its guest calls, its stop) into the manager's
 * calls on the VM's build_ref.
 */
#include "vmm/boot.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/vm.h"

/* The build a struct vm belongs to (vm->calls->host_data, vm->on_stopped_data). */
static struct mvm_ref *ref_of(struct vm *vm)
{
    return vm->calls->host_data;
}

static int host_vm_create(struct vm *caller, uint64_t image, uint64_t *id)
{
    uint64_t out[2];
    int r = manager_host_call(ref_of(caller), MANAGER_HOST_CREATE, image, out);

    if (!r)
        *id = out[0];
    return r;
}

static int host_vm_start(struct vm *caller, uint64_t id)
{
    return manager_host_call(ref_of(caller), MANAGER_HOST_START, id, NULL);
}

static int host_vm_stop(struct vm *caller, uint64_t id)
{
    return manager_host_call(ref_of(caller), MANAGER_HOST_STOP, id, NULL);
}

static int host_vm_destroy(struct vm *caller, uint64_t id)
{
    return manager_host_call(ref_of(caller), MANAGER_HOST_DESTROY, id, NULL);
}

static int host_vm_query(struct vm *caller, uint64_t id, uint64_t *state, uint64_t *status)
{
    uint64_t out[2];
    int r = manager_host_call(ref_of(caller), MANAGER_HOST_QUERY, id, out);

    if (!r) {
        *state = out[0];
        *status = out[1];
    }
    return r;
}

static void host_call_refused(struct vm *vm, unsigned vcpu, uint32_t id, const char *reason)
{
    manager_call_refused(ref_of(vm), vcpu, id, reason);
}

static bool host_forward_call(struct vcpu *vcpu, struct guest_call *call, call_status *status)
{
    return manager_forward_call(ref_of(vcpu->vm), vcpu->id, call, status);
}

const struct vm_host_ops manager_kvm_host_ops = {
    .vm_create = host_vm_create,
    .vm_start = host_vm_start,
    .vm_stop = host_vm_stop,
    .vm_destroy = host_vm_destroy,
    .vm_query = host_vm_query,
    .call_refused = host_call_refused,
    .forward_call = host_forward_call,
};

/* On the last vCPU thread to return. */
static void on_stopped(struct vm *vm, void *data)
{
    manager_vm_stopped(data);
}

static bool kvm_build(struct manager *m, struct mvm *mv, GError **error)
{
    const struct vmm_config *cfg = &mv->cfg;
    struct vm *vm;

    if (!m->kvm) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "cannot create VM '%s': %s",
                    mv->name, m->kvm_error ? m->kvm_error : "no usable /dev/kvm");
        return false;
    }
    if (cfg->vcpus > m->kvm->max_vcpus) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "%s: vm.vcpus: %u is more than KVM on this host allows (%u)",
                    cfg->vcpus_at, cfg->vcpus, m->kvm->max_vcpus);
        return false;
    }
    /* The console outlives rebuilds (system_reset): one file, from
     * vm-create to vm-destroy. */
    if (!mv->console && !(mv->console = console_open(cfg->console_file, error)))
        return false;
    vm = vm_build(m->kvm, mv->name, cfg, mv->console, error);
    if (!vm)
        return false;
    vcpu_kick_init(); /* the signal a stop or pause kicks its vCPUs with */
    vm->id = m->guest_id_zero ? 0 : mv->id;
    vm->calls->host = &manager_kvm_host_ops;
    vm->calls->host_data = mv->build_ref;
    vm->on_stopped = on_stopped;
    vm->on_stopped_data = mv->build_ref;
    mv->vm = vm;
    return true;
}

static bool kvm_start(struct mvm *mv, GError **error)
{
    return vm_set_policy(mv->vm, &mv->policy, error) && vm_start(mv->vm, error);
}

static bool kvm_pause(struct mvm *mv, GError **error)
{
    if (vm_pause(mv->vm, mv->manager->pause_timeout_ms, error))
        return true;
    vm_resume(mv->vm); /* not all of it stopped: let it all run, as before */
    return false;
}

static void kvm_resume(struct mvm *mv)
{
    vm_resume(mv->vm);
}

static void kvm_stop(struct mvm *mv, vm_stop_reason reason, int status, const char *message)
{
    vm_stop(mv->vm, reason, status, message ? "%s" : NULL, message);
}

static void kvm_teardown(struct mvm *mv)
{
    vm_destroy(mv->vm); /* joins the vCPU threads first */
}

static const struct vm_stop *kvm_stop_report(struct mvm *mv)
{
    return &((struct vm *)mv->vm)->stop;
}

static const struct call_stats *kvm_call_stats(struct mvm *mv)
{
    return &((struct vm *)mv->vm)->calls->stats;
}

static void kvm_block(struct mvm *mv, struct vmm_wait *wake)
{
    vm_blocking_begin(mv->vm, wake);
}

static void kvm_unblock(struct mvm *mv, struct vmm_wait *wake)
{
    vm_blocking_end(mv->vm, wake);
}

static bool kvm_stopping(struct mvm *mv)
{
    return vm_is_stopping(mv->vm);
}

const struct manager_backend manager_kvm_backend = {
    .build = kvm_build,
    .start = kvm_start,
    .pause = kvm_pause,
    .resume = kvm_resume,
    .stop = kvm_stop,
    .teardown = kvm_teardown,
    .stop_report = kvm_stop_report,
    .call_stats = kvm_call_stats,
    .block = kvm_block,
    .unblock = kvm_unblock,
    .stopping = kvm_stopping,
};
