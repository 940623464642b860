/* The manager's KVM backend: a managed VM is a struct vm (vm.c). */
#include "vmm/boot.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/vm.h"

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
    vm->id = mv->id;
    vm->calls->host = &manager_host_ops;
    vm->calls->host_data = mv->build_ref;
    vm->on_stopped = manager_vm_stopped_cb;
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

static void kvm_stop(struct mvm *mv)
{
    vm_stop(mv->vm, VM_STOP_HOST, VMM_EXIT_SIGNAL_BASE + 15, "stopped by the manager");
}

static void kvm_teardown(struct mvm *mv)
{
    vm_destroy(mv->vm); /* joins the vCPU threads first */
}

const struct manager_backend manager_kvm_backend = {
    .build = kvm_build,
    .start = kvm_start,
    .pause = kvm_pause,
    .resume = kvm_resume,
    .stop = kvm_stop,
    .teardown = kvm_teardown,
};
