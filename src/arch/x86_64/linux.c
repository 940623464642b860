/*
 * The x86 Linux boot protocol (Documentation/arch/x86/boot.rst), 64-bit
 * entry: the protected-mode kernel of a bzImage at its preferred address,
 * a boot_params "zero page" holding the setup header, an e820 map, the
 * command line and initrd, and vCPU 0 entering startup_64 (code32_start +
 * 0x200) in long mode with rsi = boot_params. The other vCPUs stay in
 * their reset state until Linux starts them with INIT/SIPI, which the
 * in-kernel LAPIC handles.
 *
 * A kernel file with a multiboot v1 header (kvm-unit-tests' x86 images)
 * boots instead as a multiboot loader starts it (multiboot.c): 32-bit
 * protected mode without paging, EAX = 0x2badb002, EBX = the boot
 * information, on the same machine (ACPI tables, in-kernel irqchip).
 */
#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/hw/i8042.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/guest_mem.h"
#include "vmm/vm.h"
#include "layout.h"
#include "multiboot.h"
#include "x86-linux.h"
#include "x86.h"

#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

static bool is_multiboot(const struct linux_image *li)
{
    size_t offset;

    return x86_multiboot_find(li->kernel, li->kernel_size, &offset);
}

/* What a multiboot kernel reads as its command line: its file name, then
 * the user's (not Linux's default), as GRUB and QEMU give it. */
static char *multiboot_cmdline(const struct linux_image *li)
{
    return li->cmdline && *li->cmdline ? g_strdup_printf("%s %s", li->kernel_path, li->cmdline)
                                       : g_strdup(li->kernel_path);
}

bool arch_linux_check(const struct linux_image *li, uint64_t ram_size, unsigned nr_vcpus,
                      GError **error)
{
    struct vm_layout l;
    struct x86_linux_plan p;
    struct x86_multiboot_plan mb;
    g_autofree char *mb_cmdline = NULL;

    if (!arch_layout(ram_size, nr_vcpus, true, &l, error))
        return false;
    if (is_multiboot(li)) {
        mb_cmdline = multiboot_cmdline(li);
        return x86_multiboot_check(li, mb_cmdline, &l, &mb, error);
    }
    return x86_bzimage_check(li, linux_cmdline(li), &l, &p, error);
}

const char *arch_linux_default_cmdline(void)
{
    return "console=ttyS0 panic=-1";
}

bool arch_linux_vm_init(struct vm *vm, GError **error)
{
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    struct kvm_reinject_control reinject = { .pit_reinject = 0 };

    /* The IOAPIC, PICs and every LAPIC in KVM: APs then wait for SIPI in
     * the kernel, and HLT no longer exits to vmm. The devices a Linux boot
     * adds, and their interrupts, are the machine table's (machine.c).
     * The PIT discards the ticks a guest missed rather than replaying them
     * (QEMU's kvm-pit.lost_tick_policy=discard, which kvm-unit-tests asks
     * for): re-injection would keep KVM from using AVIC, and a guest that
     * counts PIT ticks for time is long gone. [vm] pit = false leaves the
     * PIT out: its ports then read as nothing there (0xff). */
    if (vmm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0, error) < 0)
        return false;
    if (vm->flags & VM_NO_PIT)
        return true;
    return vmm_ioctl(vm->fd, KVM_CREATE_PIT2, &pit, error) >= 0 &&
           vmm_ioctl(vm->fd, KVM_REINJECT_CONTROL, &reinject, error) >= 0;
}

/*
 * A hardware-reduced ACPI machine makes Linux prefer an EFI reset, and
 * without EFI it falls back to a jump to the BIOS reset vector in real
 * mode (machine_real_restart). There is no BIOS: the vector holds a stub
 * that pulses the i8042 reset line, so that reset, too, ends the VM.
 */
static bool write_reset_vector(struct guest_mem *mem, GError **error)
{
    static const uint8_t stub[] = {
        0xb0, I8042_CMD_RESET,      /* mov al, 0xfe */
        0xe6, I8042_CMD_PORT,       /* out 0x64, al */
        0xf4,                       /* hlt */
        0xeb, 0xfd,                 /* jmp back to the hlt */
    };

    return guest_copy_in(mem, X86_RESET_VECTOR, stub, sizeof(stub), "reset vector", error);
}

/* The boot protocol's flat __BOOT_CS (0x10) and __BOOT_DS (0x18), and a
 * TSS because VM entry wants a usable TR; the code segment 64-bit for a
 * bzImage's startup_64, 32-bit for a multiboot kernel. */
static bool write_gdt(struct guest_mem *mem, bool long_mode, GError **error)
{
    uint64_t gdt[] = {
        0, 0,
        long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL, /* code */
        0x00cf93000000ffffULL, /* flat data */
        0x00008b0000000067ULL, /* TSS (busy), base 0, limit 0x67 */
        0,
    };

    return guest_copy_in(mem, X86_LINUX_GDT_ADDR, gdt, sizeof(gdt), "GDT", error);
}

/* vCPU 0 at @regs on write_gdt's segments: in long mode on
 * arch_vm_init's identity map, or in 32-bit protected mode without
 * paging, as the Multiboot Specification (3.2) promises. */
static bool boot_vcpu(struct vcpu *vcpu, const struct kvm_regs *regs, bool long_mode,
                      GError **error)
{
    struct kvm_sregs sregs;
    struct kvm_segment code = {
        .limit = 0xffffffff, .selector = BOOT_CS, .type = 0xb, .present = 1, .s = 1,
        .l = long_mode, .db = !long_mode, .g = 1,
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
    if (long_mode) {
        sregs.cr3 = X86_PML4_ADDR; /* arch_vm_init's identity map: at least 4 GiB */
        sregs.cr4 = CR4_PAE;
        sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
        sregs.efer = EFER_LME | EFER_LMA;
    } else {
        sregs.cr3 = sregs.cr4 = sregs.efer = 0;
        sregs.cr0 = CR0_PE | CR0_ET;
    }
    return vmm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs, error) >= 0 &&
           vmm_ioctl(vcpu->fd, KVM_SET_REGS, regs, error) >= 0;
}

/*
 * A multiboot kernel starts where a loader on a PC BIOS leaves the machine,
 * and one that returns to real mode (kvm-unit-tests' realmode.flat) finds
 * what the BIOS set up there: the 8259 PICs with IRQs 0-7 at vectors
 * 0x08-0x0f and 8-15 at 0x70-0x77 (8086 mode, IRQ 2 the cascade), only the
 * timer (IRQ 0) and the cascade unmasked; the PIT's channel 0 ticking at
 * 18.2 Hz (mode 3, count 65536); a real-mode IVT whose INT 08h sends the
 * PIC its EOI and whose every other vector is an IRET, at the addresses
 * the PC BIOS used (F000:FEA5, F000:FF53). realmode.flat's `sti; hlt`
 * waits for that tick, as it does on QEMU with SeaBIOS. vCPU 0's LINT0 is
 * already in ExtINT (KVM's LINT0_REENABLED quirk). A protected-mode
 * kernel masks the PIC (kvm-unit-tests' start-up does) or reprograms it.
 */
#define BIOS_BASE      0xf0000U
#define BIOS_IRQ0_OFF  0xfea5U   /* INT 08h */
#define BIOS_IRET_OFF  0xff53U   /* the dummy handler */
#define PIT_MODE3      3
#define PIT_RW_WORD    3         /* low byte, then high */

static bool bios_interrupts(struct vm *vm, GError **error)
{
    static const uint8_t irq0[] = {
        0x50,       /* push ax */
        0xb0, 0x20, /* mov al, 0x20: non-specific EOI */
        0xe6, 0x20, /* out 0x20, al */
        0x58,       /* pop ax */
        0xcf,       /* iret */
    };
    static const uint8_t iret = 0xcf;
    static const uint8_t irq_base[2] = { 0x08, 0x70 }, imr[2] = { 0xfa, 0xff };
    struct kvm_pit_state2 pit;
    uint32_t ivt[256];

    for (unsigned v = 0; v < G_N_ELEMENTS(ivt); v++)
        ivt[v] = BIOS_BASE << 12 | (v == 0x08 ? BIOS_IRQ0_OFF : BIOS_IRET_OFF); /* seg:off */
    /* After the ACPI tables, as the reset vector: the last page is vmm's. */
    if (!guest_copy_in(&vm->mem, BIOS_BASE + BIOS_IRQ0_OFF, irq0, sizeof(irq0), "BIOS INT 08h",
                       error) ||
        !guest_copy_in(&vm->mem, BIOS_BASE + BIOS_IRET_OFF, &iret, 1, "BIOS IRET", error) ||
        !guest_copy_in(&vm->mem, X86_IVT_ADDR, ivt, sizeof(ivt), "real-mode IVT", error))
        return false;
    for (unsigned chip = 0; chip < 2; chip++) {
        struct kvm_irqchip ic = { .chip_id = chip == 0 ? KVM_IRQCHIP_PIC_MASTER
                                                       : KVM_IRQCHIP_PIC_SLAVE };

        if (vmm_ioctl(vm->fd, KVM_GET_IRQCHIP, &ic, error) < 0)
            return false;
        ic.chip.pic.irq_base = irq_base[chip];
        ic.chip.pic.imr = imr[chip];
        ic.chip.pic.init4 = 1;
        ic.chip.pic.init_state = 0; /* the four ICWs are done */
        if (vmm_ioctl(vm->fd, KVM_SET_IRQCHIP, &ic, error) < 0)
            return false;
    }
    if (vm->flags & VM_NO_PIT)
        return true; /* no tick: a real-mode `sti; hlt` waits for another interrupt */
    if (vmm_ioctl(vm->fd, KVM_GET_PIT2, &pit, error) < 0)
        return false;
    pit.channels[0].count = 0; /* 65536: KVM starts the channel's timer */
    pit.channels[0].mode = PIT_MODE3;
    pit.channels[0].rw_mode = pit.channels[0].read_state = pit.channels[0].write_state =
        PIT_RW_WORD;
    pit.channels[0].bcd = 0;
    pit.channels[0].gate = 1;
    return vmm_ioctl(vm->fd, KVM_SET_PIT2, &pit, error) >= 0;
}

static bool load_multiboot(struct vm *vm, const struct linux_image *li,
                           const struct vm_layout *l, GError **error)
{
    g_autofree char *cmdline = multiboot_cmdline(li);
    struct x86_multiboot_plan p;
    struct kvm_regs regs = {
        .rax = MULTIBOOT_BOOTLOADER_MAGIC,
        .rbx = X86_MULTIBOOT_INFO_ADDR,
        .rflags = 0x2, /* interrupts off */
    };
    uint64_t rsdp;

    if (!x86_multiboot_check(li, cmdline, l, &p, error))
        return false;
    regs.rip = p.entry;
    return x86_acpi_build(vm, &rsdp, error) &&
           x86_multiboot_load(&vm->mem, li, cmdline, &p, l, error) &&
           write_gdt(&vm->mem, false, error) && write_reset_vector(&vm->mem, error) &&
           bios_interrupts(vm, error) && boot_vcpu(&vm->vcpus[0], &regs, false, error);
}

bool arch_linux_load(struct vm *vm, const struct linux_image *li, GError **error)
{
    const char *cmdline = linux_cmdline(li);
    struct vm_layout l;
    struct x86_linux_plan p;
    struct kvm_regs regs = {
        .rsi = X86_BOOT_PARAMS_ADDR,
        .rsp = X86_BOOT_PARAMS_ADDR, /* the kernel sets up its own; this is just sane */
        .rflags = 0x2,
    };
    uint64_t rsdp;

    if (!arch_layout(vm->ram_size, vm->nr_vcpus, true, &l, error))
        return false;
    if (is_multiboot(li))
        return load_multiboot(vm, li, &l, error);
    /* The same layout and checks as the config's, then the writes. */
    if (!x86_bzimage_check(li, cmdline, &l, &p, error))
        return false;
    regs.rip = p.entry;
    return x86_acpi_build(vm, &rsdp, error) &&
           x86_bzimage_load(&vm->mem, li, cmdline, &p, vm->ram_size, rsdp, error) &&
           write_gdt(&vm->mem, true, error) && write_reset_vector(&vm->mem, error) &&
           boot_vcpu(&vm->vcpus[0], &regs, true, error);
}
