/* A VM from a checked config: the one way `vmm run` and the VM manager
 * turn a config into a VM ready to start. */
#include "vmm/config.h"
#include "vmm/linux.h"
#include "vmm/vm.h"

struct vm *vm_build(struct kvm *kvm, const char *name, const struct vmm_config *cfg,
                    struct console *console, GError **error)
{
    bool is_linux = cfg->boot_linux.kernel_path != NULL;
    struct vm *vm = vm_create(kvm, name, cfg->memory, cfg->vcpus, console,
                              is_linux ? VM_LINUX : 0, error);

    if (vm && (!vm_set_policy(vm, &cfg->policy, error) ||
               !(is_linux ? vm_load_linux(vm, &cfg->boot_linux, error)
                       : vm_load_firmware(vm, cfg->firmware, cfg->image, cfg->image_size,
                                          error))))
        g_clear_pointer(&vm, vm_destroy);
    return vm;
}
