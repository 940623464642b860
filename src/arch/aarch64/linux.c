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
#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/hw/pl011.h"
#include "vmm/linux.h"
#include "vmm/vm.h"
#include "aarch64.h"

#define IMAGE_TEXT_OFFSET   8
#define IMAGE_SIZE          16
#define IMAGE_MAGIC         56
#define IMAGE_HEADER_SIZE   64
#define OLD_TEXT_OFFSET     0x80000 /* kernels before 3.17 leave image_size 0 */

/* Where the kernel goes and how much RAM it claims from there. */
struct arm_kernel {
    uint64_t load;  /* guest-physical */
    uint64_t size;
};

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static bool parse_kernel(const struct linux_image *li, struct arm_kernel *k, GError **error)
{
    const uint8_t *d = li->kernel;

    if (li->kernel_size >= IMAGE_HEADER_SIZE && !memcmp(d + IMAGE_MAGIC, "ARM\x64", 4)) {
        uint64_t text_offset = get64(d, IMAGE_TEXT_OFFSET), size = get64(d, IMAGE_SIZE);

        if (!size) {
            text_offset = OLD_TEXT_OFFSET;
            size = li->kernel_size;
        }
        if (size < li->kernel_size || text_offset > (1ULL << 30))
            return fail("kernel: %s: corrupt arm64 Image header", li->kernel_path);
        k->load = VMM_ARM_RAM_BASE + text_offset; /* RAM starts 2 MiB aligned */
        k->size = size;
        return true;
    }
    /* Formats that are certainly no raw binary for this machine. */
    if (linux_guess_format(d, li->kernel_size))
        return fail("kernel: %s: not an arm64 Image (%s)", li->kernel_path,
                    linux_guess_format(d, li->kernel_size));
    G_STATIC_ASSERT((VMM_ARM_RAM_BASE & 0xffff) == 0);
    k->load = VMM_ARM_RAM_BASE;
    k->size = li->kernel_size;
    return true;
}

static uint64_t dtb_base(uint64_t ram_size)
{
    uint64_t lo, hi;

    arch_load_window(ram_size, 1, &lo, &hi); /* images end where the DTB starts */
    return hi;
}

/* The initrd goes right below the device tree, page-aligned. */
static bool place_initrd(const struct linux_image *li, const struct arm_kernel *k,
                         uint64_t ram_size, uint64_t *addr, GError **error)
{
    uint64_t top = dtb_base(ram_size), kernel_end = k->load + k->size;

    if (li->initrd_size > top - kernel_end ||
        ((top - li->initrd_size) & ~0xfffULL) < kernel_end)
        return fail("initrd: %s: %zu MiB do not fit in %" G_GUINT64_FORMAT " MiB of RAM "
                    "beside the kernel (%" G_GUINT64_FORMAT " MiB); raise the memory",
                    li->initrd_path, (li->initrd_size + (1 << 20) - 1) >> 20, ram_size >> 20,
                    (k->size + (1 << 20) - 1) >> 20);
    *addr = (top - li->initrd_size) & ~0xfffULL;
    return true;
}

bool arch_linux_check(const struct linux_image *li, uint64_t ram_size, GError **error)
{
    struct arm_kernel k;
    uint64_t initrd;

    if (!parse_kernel(li, &k, error))
        return false;
    if (k.load + k.size > dtb_base(ram_size))
        return fail("kernel: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (it needs "
                    "%" G_GUINT64_FORMAT " MiB, and the device tree 2 MiB)", li->kernel_path,
                    ram_size >> 20, (guint64)((k.load + k.size - VMM_ARM_RAM_BASE + (1 << 20) - 1) >> 20));
    if (li->initrd && !place_initrd(li, &k, ram_size, &initrd, error))
        return false;
    if (strlen(linux_cmdline(li)) >= 4096) /* COMMAND_LINE_SIZE on arm64 */
        return fail("cmdline: %zu bytes, but arm64 kernels take at most 4095",
                    strlen(linux_cmdline(li)));
    return true;
}

const char *arch_linux_default_cmdline(void)
{
    return "panic=-1"; /* the console comes from the device tree's stdout-path */
}

bool arch_linux_vm_init(struct vm *vm, GError **error)
{
    uint32_t irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + PL011_SPI);

    return pl011_connect_irq(vm, VMM_ARM_PL011_BASE, irq, error);
}

bool arch_linux_load(struct vm *vm, const struct linux_image *li, GError **error)
{
    struct arm_kernel k;
    uint64_t initrd = 0;
    uint8_t *dst;

    if (!arch_linux_check(li, vm->ram_size, error) || !parse_kernel(li, &k, error) ||
        (li->initrd && !place_initrd(li, &k, vm->ram_size, &initrd, error)))
        return false;
    dst = gpa_to_hva(vm, k.load, k.size);
    if (!dst)
        return fail("kernel: %s: does not fit in guest RAM", li->kernel_path);
    memcpy(dst, li->kernel, li->kernel_size);
    if (li->initrd) {
        memcpy(gpa_to_hva(vm, initrd, li->initrd_size), li->initrd, li->initrd_size);
        vm->arch.initrd_start = initrd;
        vm->arch.initrd_end = initrd + li->initrd_size;
    }
    return arm_fdt_build(vm, linux_cmdline(li), error) &&
           arch_vcpu_boot_firmware(&vm->vcpus[0], k.load, error);
}
