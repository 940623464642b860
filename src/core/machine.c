/* Realizing the architecture's machine table for a VM (vmm/machine.h). */
#include "vmm/machine.h"
#include "vmm/vm.h"

bool machine_realize(struct vm *vm, GError **error)
{
    struct device_ctx ctx = {
        .iobus = &vm->iobus, .console = vm->console, .mem = &vm->mem,
        .ram_size = vm->ram_size, .nr_vcpus = vm->nr_vcpus,
        .disks = vm->disks, .nr_disks = vm->nr_disks, .vsock_cid = vm->vsock_cid,
        .shares = vm->shares, .nr_shares = vm->nr_shares,
    };
    bool is_linux = vm->flags & VM_LINUX;
    unsigned boot = (is_linux ? DEVICE_BOOT_LINUX : DEVICE_BOOT_FIRMWARE) |
                    (vm->flags & VM_PCI_TESTDEV ? DEVICE_PCI_TESTDEV : 0) |
                    (vm->vsock_cid ? DEVICE_VSOCK : 0) |
                    (vm->flags & VM_PC_TESTDEV ? DEVICE_PC_TESTDEV : 0) |
                    (vm->flags & VM_HYPERV_TESTDEV ? DEVICE_HYPERV_TESTDEV : 0);

    /* MSIs need the in-kernel irqchip, which only Linux boots create. */
    ctx.msi = is_linux && machine_msi(vm, &ctx.msi_flags);
    ctx.routes = ctx.msi ? &vm->irq_routes : NULL; /* ready from vm_create()'s end */
    return devices_realize(&vm->devices, machine_devices, machine_nr_devices, boot, &ctx,
                           is_linux ? vm->fd : -1, machine_kvm_irq, error);
}
