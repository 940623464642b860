/*
 * The arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst):
 * an Image at text_offset from a 2 MiB-aligned base (the start of RAM),
 * image_size bytes reserved for it; the device tree (arm_fdt_build, at the
 * top of RAM) with the command line and the initrd in /chosen; vCPU 0
 * entering the image's first byte at EL1, MMU off, x0 = the device tree.
 * A file without the Image header is a raw binary, loaded and entered the
 * same way at the start of RAM (64 KiB aligned). The other vCPUs wait for
 * PSCI CPU_ON, which KVM handles.
 */
#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/vm.h"
#include "aarch64.h"
#include "image.h"

bool arch_linux_check(const struct linux_image *li, uint64_t ram_size, unsigned nr_vcpus,
                      GError **error)
{
    struct vm_layout l;
    struct arm_linux_plan p;

    return arch_layout(ram_size, nr_vcpus, true, &l, error) &&
           arm_image_check(li, linux_cmdline(li), &l, &p, error);
}

const char *arch_linux_default_cmdline(void)
{
    return "panic=-1"; /* the console comes from the device tree's stdout-path */
}

bool arch_linux_vm_init(struct vm *vm, GError **error)
{
    return true; /* the GIC is there for every boot; machine.c wires the interrupts */
}

bool arch_linux_load(struct vm *vm, const struct linux_image *li, GError **error)
{
    struct vm_layout l;
    struct arm_linux_plan p;

    /* The same layout and checks as the config's, then the copies. */
    if (!arch_layout(vm->ram_size, vm->nr_vcpus, true, &l, error) ||
        !arm_image_check(li, linux_cmdline(li), &l, &p, error) ||
        !arm_image_load(&vm->mem, li, &p, error))
        return false;
    if (li->initrd) {
        vm->arch.initrd_start = p.initrd_gpa;
        vm->arch.initrd_end = p.initrd_gpa + li->initrd_size;
    }
    return arm_fdt_build(vm, linux_cmdline(li), error) &&
           arch_vcpu_boot_firmware(&vm->vcpus[0], p.kernel_gpa, error);
}
