/* A VM from a checked config: creating it, its policy, and loading its
 * boot image (firmware or Linux) with the vCPUs pointed at it. */
#include "vmm/arch.h"
#include "vmm/boot.h"
#include "vmm/calls.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/linux.h"
#include "vmm/loader.h"
#include "vmm/vm.h"

/* An ELF64 image (already read from @path) into guest RAM, inside the
 * window the layout leaves for images; every vCPU starts at its entry. */
static bool load_firmware(struct vm *vm, const char *path, const uint8_t *image, size_t size,
                          GError **error)
{
    struct load_target t = {
        .e_machine = arch_elf_machine(),
        .ram = vm->mem.ram->hva,
        .ram_gpa = vm->mem.ram->gpa,
        .ram_size = vm->ram_size,
    };
    uint64_t entry;

    arch_load_window(vm->ram_size, vm->nr_vcpus, &t.lo, &t.hi);
    if (!elf_load(path, image, size, &t, &entry, error))
        return false;
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        if (!arch_vcpu_boot_firmware(&vm->vcpus[i], entry, error))
            return false;
    return true;
}

/* The kernel, initrd and command line (and the platform tables) into RAM,
 * the boot vCPU at the kernel, and the console watched for a panic. */
static bool load_linux(struct vm *vm, const struct linux_image *li, GError **error)
{
    if (!arch_linux_load(vm, li, error))
        return false;
    linux_panic_watch(vm);
    return true;
}

/* [vm] cpu-features, checked when the config was read. */
static bool apply_cpu_features(struct vm *vm, const char *text, GError **error)
{
    struct cpu_features f;
    g_autofree char *problem = NULL;

    if (!arch_cpu_features_parse(text, &f, &problem)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "cpu-features: %s", problem);
        return false;
    }
    return arch_vm_cpu_features(vm, &f, error);
}

struct vm *vm_build(struct kvm *kvm, const char *name, const struct vmm_config *cfg,
                    struct console *console, GError **error)
{
    bool is_linux = cfg->boot_linux.kernel_path != NULL;
    unsigned flags = (is_linux ? VM_LINUX : 0) | (cfg->pci_test_device ? VM_PCI_TESTDEV : 0) |
                     (cfg->status_whole ? VM_STATUS_WHOLE : 0) |
                     (cfg->pc_test_device ? VM_PC_TESTDEV : 0) |
                     (cfg->gic_version == 2 ? VM_GIC_V2 : 0) | (cfg->gic_version == 3 ? VM_GIC_V3 : 0) |
                     (cfg->mte ? VM_MTE : 0) | (cfg->pit ? 0 : VM_NO_PIT) |
                     (cfg->hyperv ? VM_HYPERV : 0) |
                     (cfg->hyperv_test_device ? VM_HYPERV_TESTDEV : 0);
    struct vm *vm = vm_create(kvm, name, cfg->memory, cfg->vcpus, console, flags,
                              cfg->disks, cfg->nr_disks, cfg->shares, cfg->nr_shares, cfg->vsock_cid,
                              &vm_calls_ops, error);

    if (vm && cfg->cpu_features && !apply_cpu_features(vm, cfg->cpu_features, error))
        g_clear_pointer(&vm, vm_destroy);
    if (vm && cfg->status_line)
        status_line_watch(vm);
    if (vm && (!vm_set_policy(vm, &cfg->policy, error) ||
               !(is_linux ? load_linux(vm, &cfg->boot_linux, error)
                       : load_firmware(vm, cfg->firmware, cfg->image, cfg->image_size,
                                       error))))
        g_clear_pointer(&vm, vm_destroy);
    return vm;
}
