/* x86_64 vCPUs: CPUID, and the 64-bit long-mode state firmware starts in. */
#include <asm/kvm_para.h>
#include <string.h>

#include "vmm-guest/calls.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/ucall.h"
#include "vmm/vm.h"
#include "cpu_features.h"
#include "layout.h"
#include "x86.h"

#define CPUID_1_ECX_HYPERVISOR (1U << 31)

/* The vCPU's CPUID: KVM's supported set, with [vm] cpu-features applied. */
static bool set_cpuid(struct vcpu *vcpu, GError **error)
{
    const struct kvm_cpuid2 *base = vcpu->vm->arch.cpuid;
    size_t size = sizeof(*base) + base->nent * sizeof(base->entries[0]);
    g_autofree struct kvm_cpuid2 *cpuid = g_memdup2(base, size);

    x86_cpu_features_apply(cpuid, &vcpu->vm->arch.cpu_features);
    /* Each vCPU learns its own APIC ID, and that it runs under a hypervisor. */
    for (unsigned i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

        switch (e->function) {
        case 0x1:
            e->ebx = (e->ebx & 0x00ffffff) | (vcpu->id << 24);
            e->ecx |= CPUID_1_ECX_HYPERVISOR;
            break;
        case 0xb:
        case 0x1f:
            e->edx = vcpu->id;
            break;
        }
        /* KVM's features leaf (moved under [vm] hyperv: hyperv.c). These
         * make Linux issue KVM hypercalls, which the call intercept hands
         * to vmm, and vmm does not carry out (it answers -KVM_ENOSYS:
         * hypercall.c): hidden, none is tried. */
        if (e->function == vcpu->vm->arch.kvm_cpuid_base + 1 && x86_vmcall_available(vcpu->vm))
            e->eax &= ~((1U << KVM_FEATURE_PV_UNHALT) | (1U << KVM_FEATURE_PV_SEND_IPI) |
                        (1U << KVM_FEATURE_PV_SCHED_YIELD));
    }
    return vmm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid, error) >= 0;
}

bool arch_vcpu_init(struct vcpu *vcpu, GError **error)
{
    return set_cpuid(vcpu, error) && x86_hyperv_vcpu_init(vcpu, error);
}

static bool vm_has_cap(long cap, void *data)
{
    struct vm *vm = data;

    return kvm_check_cap(vm->fd, cap) > 0;
}

/* KVM takes a new CPUID until a vCPU first runs: the VM is built, not
 * started, when its config's features are applied. */
bool arch_vm_cpu_features(struct vm *vm, const struct cpu_features *f, GError **error)
{
    const struct x86_cpu_feature *missing =
        x86_cpu_features_missing(vm->arch.cpuid, f, vm_has_cap, vm);

    if (missing) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM,
                    "CPU feature +%s: KVM cannot give it on this host", missing->name);
        return false;
    }
    vm->arch.cpu_features = *f;
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        if (!set_cpuid(&vm->vcpus[i], error))
            return false;
    return true;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
        .present = 1, .dpl = 0, .db = !code, .s = 1, .l = code, .g = 1,
    };
}

bool arch_vcpu_boot_firmware(struct vcpu *vcpu, uint64_t entry, GError **error)
{
    struct vm *vm = vcpu->vm;
    struct kvm_sregs sregs;
    struct kvm_regs regs = {
        .rip = entry,
        .rsp = x86_vcpu_stack_top(vm, vcpu->id),
        .rdi = vcpu->id,
        .rsi = vm->nr_vcpus,
        .rdx = vm->ram_size,
        .r8 = ucall_area_gpa(vm) + (uint64_t)vcpu->id * VMM_UCALL_STRIDE,
        .rflags = 0x2, /* interrupts off; bit 1 is always set */
    };

    if (vmm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs, error) < 0)
        return false;
    flat_segment(&sregs.cs, X86_SEL_CODE, 0xb, true);
    flat_segment(&sregs.ds, X86_SEL_DATA, 0x3, false);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = X86_SEL_TSS, .type = 0xb, .present = 1,
    };
    sregs.gdt.base = X86_GDT_ADDR;
    sregs.gdt.limit = 5 * 8 - 1;
    /* No IDT: any exception becomes a triple fault that vmm reports. */
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr3 = X86_PML4_ADDR;
    sregs.cr4 = CR4_PAE;
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    sregs.efer = EFER_LME | EFER_LMA;

    return vmm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs, error) >= 0 &&
           vmm_ioctl(vcpu->fd, KVM_SET_REGS, &regs, error) >= 0;
}

/* A 16-bit real-mode segment, as after INIT. */
static void real_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool system)
{
    *s = (struct kvm_segment){
        .base = (uint64_t)selector << 4, .limit = 0xffff, .selector = selector, .type = type,
        .present = 1, .s = !system,
    };
}

/*
 * Waking from S3: what a PC firmware's resume path hands the OS (ACPI,
 * "Firmware Waking Vector"): real mode with CS:IP = vector >> 4 :
 * vector & 0xf, the other segments at 0, paging and protection off, the
 * general registers clear. The vector is the guest's to write: one out
 * of real mode's reach, or a 64-bit X_FIRMWARE_WAKING_VECTOR (which asks
 * for protected mode), is refused.
 */
bool arch_vcpu_s3_resume(struct vcpu *vcpu, GError **error)
{
    struct vm *vm = vcpu->vm;
    const uint8_t *facs = vm->arch.facs_gpa ? gpa_to_hva(&vm->mem, vm->arch.facs_gpa, 64) : NULL;
    struct kvm_regs regs = { .rflags = 0x2 };
    struct kvm_sregs sregs;
    uint64_t xvector;
    uint32_t vector;

    if (!facs) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "the VM has no FACS");
        return false;
    }
    memcpy(&vector, facs + 12, 4);
    memcpy(&xvector, facs + 24, 8);
    if (xvector) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "the FACS asks for a protected-mode wake (X_FIRMWARE_WAKING_VECTOR %#llx); "
                    "vmm wakes in real mode only", (unsigned long long)xvector);
        return false;
    }
    if (!vector || vector >= 0x100000 || !gpa_to_hva(&vm->mem, vector, 1)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "the FACS's waking vector %#x is not real-mode RAM", vector);
        return false;
    }
    if (vmm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs, error) < 0)
        return false;
    real_segment(&sregs.cs, vector >> 4, 0xb, false);
    real_segment(&sregs.ds, 0, 0x3, false);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    real_segment(&sregs.tr, 0, 0xb, true);
    real_segment(&sregs.ldt, 0, 0x2, true);
    sregs.gdt.base = 0;
    sregs.gdt.limit = 0xffff;
    sregs.idt.base = 0;
    sregs.idt.limit = 0x3ff; /* the real-mode IVT */
    sregs.cr0 = CR0_ET;
    sregs.cr2 = sregs.cr3 = sregs.cr4 = 0;
    sregs.efer = 0;
    regs.rip = vector & 0xf;
    return vmm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs, error) >= 0 &&
           vmm_ioctl(vcpu->fd, KVM_SET_REGS, &regs, error) >= 0;
}

const char ARCH_PC_NAME[] = "rip";

int arch_vcpu_pc(struct vcpu *vcpu, uint64_t *pc)
{
    struct kvm_regs r;
    int ret = __vmm_ioctl(vcpu->fd, KVM_GET_REGS, &r);

    if (ret < 0)
        return ret;
    *pc = r.rip;
    return 0;
}

void arch_vcpu_dump(struct vcpu *vcpu, GString *out)
{
    struct kvm_regs r;
    struct kvm_sregs s;

    if (__vmm_ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
        __vmm_ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
        g_string_append(out, "\n  (registers unavailable)");
        return;
    }
    g_string_append_printf(out,
        "\n  rip=%016llx rsp=%016llx rflags=%016llx"
        "\n  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx"
        "\n  rsi=%016llx rdi=%016llx rbp=%016llx"
        "\n  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx"
        "\n  cs=%04x idt=%016llx+%x",
        r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
        s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector, s.idt.base, s.idt.limit);
    /* On AMD, KVM resets a vCPU that shuts down before it exits. */
    if (r.rip == 0xfff0 && s.cs.selector == 0xf000)
        g_string_append(out, "\n  (these are the vCPU's reset values: KVM reset it on the "
                             "shutdown, so the state at the fault is lost)");
}
