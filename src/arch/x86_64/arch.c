/* x86_64: machine layout, devices, and the boot page tables. */
#include <elf.h>
#include <string.h>

#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/layout.h"
#include "vmm/machine.h"
#include "vmm/policy.h"
#include "vmm/memory.h"
#include "vmm/ucall.h"
#include "vmm/vm.h"
#include "layout.h"
#include "x86.h"

const char arch_name[] = "x86_64";

uint16_t arch_elf_machine(void)
{
    return EM_X86_64;
}

uint64_t arch_ram_base(void)
{
    return VMM_X86_RAM_BASE;
}

uint64_t arch_kvm_services(void)
{
    return 0; /* KVM's x86 services are CPUID and MSR features, not calls */
}

void arch_load_window(uint64_t ram_size, unsigned nr_vcpus, uint64_t *lo, uint64_t *hi)
{
    struct vm_layout l;

    /* A machine that cannot exist has no room for images. */
    if (!arch_layout(ram_size, nr_vcpus, false, &l, NULL))
        l.load_lo = l.load_hi = X86_IMAGE_MIN;
    *lo = l.load_lo;
    *hi = l.load_hi;
}

/* The doorbell carries the structure's page number: an `out` is 32 bits. */
static void ucall_doorbell(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                           unsigned len, bool is_write)
{
    uint32_t pfn = 0;

    if (!is_write) {
        memset(data, 0xff, len);
        return;
    }
    if (len != sizeof(pfn)) {
        ucall_reject(vcpu, "ucall doorbell: a %u-byte write refused (expected 4 bytes)",
                     len);
        return;
    }
    memcpy(&pfn, data, sizeof(pfn));
    ucall_ring(vcpu, (uint64_t)pfn << 12);
}

uint64_t x86_vcpu_stack_top(struct vm *vm, unsigned id)
{
    return vm->arch.stacks_top - (uint64_t)id * VMM_X86_STACK_SIZE;
}

static bool write_gdt(struct vm *vm, GError **error)
{
    uint64_t gdt[] = {
        0,
        0x00af9b000000ffffULL, /* 64-bit code, DPL 0 */
        0x00cf93000000ffffULL, /* flat data */
        0x00008b0000000067ULL, /* 64-bit TSS (busy), base 0, limit 0x67: low half */
        0,                     /* and its high half */
    };

    return guest_copy_in(&vm->mem, X86_GDT_ADDR, gdt, sizeof(gdt), "GDT", error);
}

/* The layout's "page tables" region: PML4, PDPT, one PD per GiB. */
static bool write_page_tables(struct vm *vm, GError **error)
{
    uint64_t gib = x86_mapped_gib(vm->ram_size);
    uint64_t size = X86_PD_ADDR - X86_PML4_ADDR + gib * 0x1000;
    g_autofree uint64_t *t = g_malloc0(size);
    uint64_t *pml4 = t, *pdpt = t + (X86_PDPT_ADDR - X86_PML4_ADDR) / 8;

    /* Present | writable; 2 MiB pages (PS) in the page directories. */
    pml4[0] = X86_PDPT_ADDR | 0x3;
    for (uint64_t g = 0; g < gib; g++) {
        uint64_t *pd = t + (X86_PD_ADDR - X86_PML4_ADDR + g * 0x1000) / 8;

        pdpt[g] = (X86_PD_ADDR + g * 0x1000) | 0x3;
        for (uint64_t i = 0; i < 512; i++)
            pd[i] = ((g << 30) + (i << 21)) | 0x83;
    }
    return guest_copy_in(&vm->mem, X86_PML4_ADDR, t, size, "page tables", error);
}

bool arch_vm_init(struct vm *vm, GError **error)
{
    int nent = 128;
    struct kvm_cpuid2 *cpuid;
    struct vm_layout l;

    /* What the config check approved; checked again, so that no caller
     * can build a machine whose structures overlap or leave RAM. */
    if (!arch_layout(vm->ram_size, vm->nr_vcpus, vm->flags & VM_LINUX, &l, error))
        return false;
    vm->arch.stacks_top = l.stacks_top;

    /* Intel needs three pages for its real-mode TSS somewhere; AMD ignores it. */
    if (kvm_check_cap(vm->fd, KVM_CAP_SET_TSS_ADDR) &&
        vmm_ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL, error) < 0)
        return false;

    for (;;) {
        cpuid = g_malloc0(sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
        cpuid->nent = nent;
        int r = __vmm_ioctl(vm->kvm->fd, KVM_GET_SUPPORTED_CPUID, cpuid);
        if (r == 0)
            break;
        g_free(cpuid);
        if (r != -E2BIG || nent >= 4096) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_KVM, "KVM_GET_SUPPORTED_CPUID: %s",
                        g_strerror(-r));
            return false;
        }
        nent *= 2;
    }
    vm->arch.cpuid = cpuid;

    if (!x86_hyperv_init(vm, error) || !write_gdt(vm, error) || !write_page_tables(vm, error))
        return false;
    ucall_area_init(vm, l.ucall_gpa);
    return x86_vmcall_init(vm, error) &&
           iobus_register(&vm->iobus, IOBUS_PIO, VMM_X86_UCALL_PORT, 4, ucall_doorbell, NULL,
                          "ucall", error) &&
           machine_realize(vm, error);
}

bool arch_vm_finalize(struct vm *vm, GError **error)
{
    /* Hyper-V exits go to the test device's connections (hyperv.c). */
    vm->arch.hv_testdev = devices_state_of(&vm->devices, &hyperv_testdev_device);
    return true;
}

bool arch_vm_apply_policy(struct vm *vm, const struct vm_policy *policy, GError **error)
{
    if (policy->may_call && (vm->flags & VM_HYPERV)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] hyperv gives vmcall to KVM's Hyper-V, so vmm's guest calls are "
                    "unavailable: this policy allows some call", vm->name);
        return false;
    }
    if (policy->may_call && !x86_vmcall_available(vm))
        vmm_log("%s: this host's KVM cannot hand vmcall to vmm (no Xen hypercall "
                "intercept, KVM_CAP_XEN_HVM): vmcall is unavailable, the ucall "
                "port still works", vm->name);
    return true;
}

bool arch_handle_exit(struct vcpu *vcpu)
{
    if (vcpu->run->exit_reason == KVM_EXIT_XEN) {
        x86_handle_vmcall(vcpu);
        return true;
    }
    if (vcpu->run->exit_reason == KVM_EXIT_HYPERV) {
        x86_handle_hyperv(vcpu);
        return true;
    }
    return false;
}

void arch_vm_destroy(struct vm *vm)
{
    g_free(vm->arch.cpuid);
    vm->arch.cpuid = NULL;
}
