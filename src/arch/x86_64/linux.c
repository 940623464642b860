/*
 * The x86 Linux boot protocol (Documentation/arch/x86/boot.rst), 64-bit
 * entry: the protected-mode kernel of a bzImage at its preferred address,
 * a boot_params "zero page" holding the setup header, an e820 map, the
 * command line and initrd, and vCPU 0 entering startup_64 (code32_start +
 * 0x200) in long mode with rsi = boot_params. The other vCPUs stay in
 * their reset state until Linux starts them with INIT/SIPI, which the
 * in-kernel LAPIC handles.
 */
#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/uart16550.h"
#include "vmm/linux.h"
#include "vmm/vm.h"
#include "layout.h"
#include "x86-linux.h"
#include "x86.h"

/* Setup header fields: offsets in the bzImage and in boot_params alike. */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200  /* its second byte is the header's length - 2 */
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define BP_SIZE             0x1000

#define LOADED_HIGH         0x01
#define XLF_KERNEL_64       0x01
#define MIN_VERSION         0x020c  /* 2.12: xloadflags, 64-bit entry */
#define ENTRY_64_OFFSET     0x200
#define E820_RAM            1
#define E820_RESERVED       2

#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

/* What vmm needs from a bzImage's setup header, checked. */
struct bzimage {
    size_t setup_size;       /* real-mode part: skipped */
    uint64_t load_addr;      /* pref_address */
    uint64_t mem_size;       /* bytes the kernel needs from load_addr (init_size) */
    uint64_t initrd_max;     /* highest address the initrd's last byte may have */
    uint32_t cmdline_size;
    size_t header_end;       /* the setup header is [0x1f1, header_end) */
};

static uint16_t get16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

static bool parse_bzimage(const struct linux_image *li, struct bzimage *bz, GError **error)
{
    const uint8_t *d = li->kernel;
    size_t size = li->kernel_size;
    const char *name = li->kernel_path;
    unsigned sects;

    if (size < 0x270 || get16(d, HDR_BOOT_FLAG) != 0xaa55 || memcmp(d + HDR_MAGIC, "HdrS", 4)) {
        const char *what = linux_guess_format(d, size);

        return fail("kernel: %s: not a bzImage%s%s%s", name, what ? " (" : "",
                    what ? what : "", what ? ")" : "");
    }
    if (get16(d, HDR_VERSION) < MIN_VERSION)
        return fail("kernel: %s: boot protocol %u.%02u is too old (2.12 or later needed)",
                    name, get16(d, HDR_VERSION) >> 8, get16(d, HDR_VERSION) & 0xff);
    if (!(d[HDR_LOADFLAGS] & LOADED_HIGH) || !(get16(d, HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return fail("kernel: %s: not a 64-bit kernel with a 64-bit entry point", name);
    sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
    bz->setup_size = (sects + 1) * 512;
    bz->header_end = 0x202 + d[HDR_JUMP + 1];
    if (bz->setup_size >= size || bz->header_end > bz->setup_size || bz->header_end > BP_SIZE)
        return fail("kernel: %s: truncated bzImage", name);
    bz->load_addr = get64(d, HDR_PREF_ADDRESS);
    bz->mem_size = MAX((uint64_t)get32(d, HDR_INIT_SIZE), size - bz->setup_size);
    bz->initrd_max = get32(d, HDR_INITRD_ADDR_MAX);
    bz->cmdline_size = get32(d, HDR_CMDLINE_SIZE);
    if (bz->load_addr < X86_HIGH_RAM)
        return fail("kernel: %s: preferred load address %#" G_GINT64_MODIFIER "x is below 1 MiB",
                    name, bz->load_addr);
    return true;
}

/* Where the initrd goes: as high as the header and RAM allow, page-aligned. */
static bool place_initrd(const struct linux_image *li, const struct bzimage *bz,
                         uint64_t ram_size, uint64_t *addr, GError **error)
{
    uint64_t top = MIN(ram_size, bz->initrd_max + 1);
    uint64_t kernel_end = bz->load_addr + bz->mem_size;

    if (li->initrd_size > top || ((top - li->initrd_size) & ~0xfffULL) < kernel_end)
        return fail("initrd: %s: %zu MiB do not fit in %" G_GUINT64_FORMAT " MiB of RAM "
                    "beside the kernel (%" G_GUINT64_FORMAT " MiB); raise the memory",
                    li->initrd_path, (li->initrd_size + (1 << 20) - 1) >> 20, ram_size >> 20,
                    kernel_end >> 20);
    *addr = (top - li->initrd_size) & ~0xfffULL;
    return true;
}

bool arch_linux_check(const struct linux_image *li, uint64_t ram_size, GError **error)
{
    struct bzimage bz;
    uint64_t initrd;
    size_t cmdline_len = strlen(linux_cmdline(li));

    if (!parse_bzimage(li, &bz, error))
        return false;
    if (ram_size > X86_LINUX_MAX_RAM)
        return fail("memory: a Linux guest may have up to %llu MiB of RAM for now "
                    "(RAM ends below the 32-bit MMIO hole)", X86_LINUX_MAX_RAM >> 20);
    if (bz.load_addr + bz.mem_size > ram_size)
        return fail("kernel: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (it needs "
                    "%" G_GUINT64_FORMAT " MiB from %#" G_GINT64_MODIFIER "x)", li->kernel_path,
                    ram_size >> 20, (bz.mem_size + (1 << 20) - 1) >> 20, bz.load_addr);
    if (li->initrd && !place_initrd(li, &bz, ram_size, &initrd, error))
        return false;
    if (cmdline_len >= MIN((uint64_t)bz.cmdline_size + 1, X86_CMDLINE_MAX))
        return fail("cmdline: %zu bytes, but this kernel takes at most %u", cmdline_len,
                    bz.cmdline_size);
    return true;
}

const char *arch_linux_default_cmdline(void)
{
    return "console=ttyS0 panic=-1";
}

bool arch_linux_vm_init(struct vm *vm, GError **error)
{
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

    if (vm->nr_vcpus > X86_LINUX_MAX_VCPUS)
        return fail("vcpus: a Linux guest may have up to %u vCPUs", X86_LINUX_MAX_VCPUS);
    /* The IOAPIC, PICs and every LAPIC in KVM: APs then wait for SIPI in
     * the kernel, and HLT no longer exits to vmm. */
    if (vmm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0, error) < 0 ||
        vmm_ioctl(vm->fd, KVM_CREATE_PIT2, &pit, error) < 0)
        return false;
    return i8042_register(vm, error) && acpi_sleep_register(vm, error) &&
           uart16550_connect_irq(vm, VMM_X86_COM1_PORT, X86_COM1_IRQ, error);
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = bp[BP_E820_ENTRIES];
    uint8_t *e = bp + BP_E820_TABLE + n * 20;

    put64(e, 0, addr);
    put64(e, 8, size);
    put32(e, 16, type);
    bp[BP_E820_ENTRIES] = n + 1;
}

/*
 * A hardware-reduced ACPI machine makes Linux prefer an EFI reset, and
 * without EFI it falls back to a jump to the BIOS reset vector in real
 * mode (machine_real_restart). There is no BIOS: the vector holds a stub
 * that pulses the i8042 reset line, so that reset, too, ends the VM.
 */
static void write_reset_vector(uint8_t *ram)
{
    static const uint8_t stub[] = {
        0xb0, I8042_CMD_RESET,      /* mov al, 0xfe */
        0xe6, I8042_CMD_PORT,       /* out 0x64, al */
        0xf4,                       /* hlt */
        0xeb, 0xfd,                 /* jmp back to the hlt */
    };

    memcpy(ram + X86_RESET_VECTOR, stub, sizeof(stub));
}

static void write_gdt(uint8_t *ram)
{
    /* The boot protocol's flat __BOOT_CS (0x10) and __BOOT_DS (0x18), and a
     * TSS because VM entry wants a usable TR. */
    uint64_t gdt[] = {
        0, 0,
        0x00af9b000000ffffULL, /* 64-bit code */
        0x00cf93000000ffffULL, /* flat data */
        0x00008b0000000067ULL, /* 64-bit TSS (busy), base 0, limit 0x67 */
        0,
    };

    memcpy(ram + X86_LINUX_GDT_ADDR, gdt, sizeof(gdt));
}

static bool boot_vcpu(struct vcpu *vcpu, uint64_t entry, GError **error)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs = {
        .rip = entry,
        .rsi = X86_BOOT_PARAMS_ADDR,
        .rsp = X86_BOOT_PARAMS_ADDR, /* the kernel sets up its own; this is just sane */
        .rflags = 0x2,
    };
    struct kvm_segment code = {
        .limit = 0xffffffff, .selector = BOOT_CS, .type = 0xb, .present = 1, .s = 1,
        .l = 1, .g = 1,
    };
    struct kvm_segment data = {
        .limit = 0xffffffff, .selector = BOOT_DS, .type = 0x3, .present = 1, .s = 1,
        .db = 1, .g = 1,
    };

    if (vmm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs, error) < 0)
        return false;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = (struct kvm_segment){
        .limit = 0x67, .selector = BOOT_TSS, .type = 0xb, .present = 1,
    };
    sregs.gdt.base = X86_LINUX_GDT_ADDR;
    sregs.gdt.limit = 6 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr3 = X86_PML4_ADDR; /* arch_vm_init's identity map: at least 4 GiB */
    sregs.cr4 = CR4_PAE;
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    sregs.efer = EFER_LME | EFER_LMA;
    return vmm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs, error) >= 0 &&
           vmm_ioctl(vcpu->fd, KVM_SET_REGS, &regs, error) >= 0;
}

bool arch_linux_load(struct vm *vm, const struct linux_image *li, GError **error)
{
    uint8_t *ram = vm->ram->hva, *bp = ram + X86_BOOT_PARAMS_ADDR;
    const char *cmdline = linux_cmdline(li);
    struct bzimage bz;
    uint64_t initrd = 0, rsdp;

    if (!arch_linux_check(li, vm->ram_size, error) || !parse_bzimage(li, &bz, error) ||
        (li->initrd && !place_initrd(li, &bz, vm->ram_size, &initrd, error)) ||
        !x86_acpi_build(vm, &rsdp, error))
        return false;

    memcpy(ram + bz.load_addr, li->kernel + bz.setup_size, li->kernel_size - bz.setup_size);
    if (li->initrd)
        memcpy(ram + initrd, li->initrd, li->initrd_size);
    memset(ram + X86_CMDLINE_ADDR, 0, X86_CMDLINE_MAX);
    memcpy(ram + X86_CMDLINE_ADDR, cmdline, strlen(cmdline));

    memset(bp, 0, BP_SIZE);
    memcpy(bp + HDR_SETUP_SECTS, li->kernel + HDR_SETUP_SECTS, bz.header_end - HDR_SETUP_SECTS);
    bp[HDR_TYPE_OF_LOADER] = 0xff; /* "undefined" boot loader */
    put32(bp, HDR_CMD_LINE_PTR, X86_CMDLINE_ADDR);
    put32(bp, HDR_RAMDISK_IMAGE, initrd);
    put32(bp, HDR_RAMDISK_SIZE, li->initrd ? li->initrd_size : 0);
    put64(bp, BP_ACPI_RSDP_ADDR, rsdp);
    e820_add(bp, 0, X86_EBDA_START, E820_RAM);
    e820_add(bp, X86_EBDA_START, X86_HIGH_RAM - X86_EBDA_START, E820_RESERVED);
    e820_add(bp, X86_HIGH_RAM, vm->ram_size - X86_HIGH_RAM, E820_RAM);

    write_gdt(ram);
    write_reset_vector(ram);
    return boot_vcpu(&vm->vcpus[0], bz.load_addr + ENTRY_64_OFFSET, error);
}
