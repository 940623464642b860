/* aarch64: machine layout, the GIC, devices and default exception vectors. */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/hw/exit_device.h"
#include "vmm/layout.h"
#include "vmm/machine.h"
#include "vmm/ucall.h"
#include "vmm/vm.h"
#include "aarch64.h"

const char arch_name[] = "aarch64";

uint16_t arch_elf_machine(void)
{
    return EM_AARCH64;
}

uint64_t arch_ram_base(void)
{
    return VMM_ARM_RAM_BASE;
}

void arch_load_window(uint64_t ram_size, unsigned nr_vcpus, uint64_t *lo, uint64_t *hi)
{
    struct vm_layout l;

    /* A machine that cannot exist has no room for images. */
    if (!arch_layout(ram_size, nr_vcpus, false, &l, NULL))
        l.load_lo = l.load_hi = VMM_ARM_RAM_BASE;
    *lo = l.load_lo;
    *hi = l.load_hi;
}

static void ucall_doorbell(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                           unsigned len, bool is_write)
{
    uint64_t gpa = 0;

    if (!is_write) {
        memset(data, 0, len);
        return;
    }
    if (offset != 0 || len != 8) {
        ucall_reject(vcpu, "ucall doorbell: a %u-byte write at offset %llu refused "
                     "(expected 8 bytes at 0)", len, (unsigned long long)offset);
        return;
    }
    memcpy(&gpa, data, sizeof(gpa));
    ucall_ring(vcpu, gpa);
}

/*
 * VBAR_EL1 resets to 0, so a guest that faults before installing its own
 * vectors would loop forever inside KVM (an abort on unmapped memory is
 * reflected back into the guest). A read-only page of vectors at 0 turns
 * that into an MMIO write to the exit device's crash register instead.
 */
static bool map_default_vectors(struct vm *vm, GError **error)
{
    uint64_t size = MAX((uint64_t)sysconf(_SC_PAGESIZE), 0x1000);
    struct mem_region *r;

    G_STATIC_ASSERT((VMM_ARM_EXIT_BASE & 0xffff) == 0 && VMM_ARM_EXIT_BASE >> 16 == 0x090f);
    G_STATIC_ASSERT(VMM_EXIT_REG_CRASH == 8);
    if (!kvm_check_cap(vm->fd, KVM_CAP_READONLY_MEM)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_NO_KVM, "KVM lacks KVM_CAP_READONLY_MEM");
        return false;
    }
    r = guest_mem_map(&vm->mem, vm->fd, VMM_ARM_VECTORS_BASE, size, false, false, error);
    if (!r)
        return false;
    for (uint32_t v = 0; v < 16; v++) {
        uint32_t code[] = {
            0xd2a121f0,                  /* movz x16, #0x090f, lsl #16 */
            0x52800011 | (v << 5),       /* movz w17, #v                */
            0xb9000a11,                  /* str  w17, [x16, #8]         */
            0x14000000,                  /* b    .                      */
        };
        memcpy(r->hva + v * 0x80, code, sizeof(code));
    }
    /* Made read-only only now that it is written: re-register the slot. */
    struct kvm_userspace_memory_region slot = {
        .slot = (uint32_t)(r - vm->mem.regions), .flags = KVM_MEM_READONLY,
        .guest_phys_addr = r->gpa, .memory_size = r->size, .userspace_addr = (uintptr_t)r->hva,
    };
    struct kvm_userspace_memory_region gone = slot;
    gone.memory_size = 0;
    gone.flags = 0;
    if (vmm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &gone, error) < 0 ||
        vmm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot, error) < 0)
        return false;
    r->readonly = true;
    return true;
}

/* The vGIC's registers: GICv3's distributor and redistributors, or
 * GICv2's distributor and CPU interface. */
static bool gic_place(struct vm *vm, GError **error)
{
    uint64_t dist = VMM_ARM_GICD_BASE, other;
    struct kvm_device_attr attr = {
        .group = KVM_DEV_ARM_VGIC_GRP_ADDR, .addr = (uintptr_t)&dist,
        .attr = vm->arch.gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_DIST : KVM_VGIC_V2_ADDR_TYPE_DIST,
    };

    if (vmm_ioctl(vm->arch.gic_fd, KVM_SET_DEVICE_ATTR, &attr, error) < 0)
        return false;
    other = vm->arch.gic_version == 3 ? VMM_ARM_GICR_BASE : VMM_ARM_GICC_BASE;
    attr.attr = vm->arch.gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_REDIST : KVM_VGIC_V2_ADDR_TYPE_CPU;
    attr.addr = (uintptr_t)&other;
    return vmm_ioctl(vm->arch.gic_fd, KVM_SET_DEVICE_ATTR, &attr, error) >= 0;
}

/* [vm] gic-version: the one asked for, or else GICv3 where the host's KVM
 * can emulate it and GICv2 where it can only do that (a host whose GIC
 * is a GICv2, or a GICv3 with the GICv2 compatibility interface). */
static bool gic_create(struct vm *vm, GError **error)
{
    struct kvm_create_device dev = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
    bool any = !(vm->flags & (VM_GIC_V2 | VM_GIC_V3));
    int r = -ENODEV;

    if (!(vm->flags & VM_GIC_V2))
        r = __vmm_ioctl(vm->fd, KVM_CREATE_DEVICE, &dev);
    vm->arch.gic_version = 3;
    if (r == -ENODEV && !(vm->flags & VM_GIC_V3)) {
        dev = (struct kvm_create_device){ .type = KVM_DEV_TYPE_ARM_VGIC_V2 };
        r = __vmm_ioctl(vm->fd, KVM_CREATE_DEVICE, &dev);
        vm->arch.gic_version = 2;
    }
    if (r < 0) {
        g_set_error(error, VMM_ERROR, r != -ENODEV ? VMM_ERROR_HOST
                                      : any ? VMM_ERROR_NO_KVM : VMM_ERROR_KVM,
                    "%s: KVM_CREATE_DEVICE: %s%s",
                    any ? "GIC" : vm->arch.gic_version == 3 ? "GICv3" : "GICv2", g_strerror(-r),
                    r != -ENODEV ? ""
                    : any ? " (the host's KVM emulates neither a GICv3 nor a GICv2)"
                    : " (the host's KVM cannot emulate this GIC: [vm] gic-version, --gic-version)");
        return false;
    }
    vm->arch.gic_fd = dev.fd;
    if (vm->arch.gic_version == 2 && vm->nr_vcpus > 8) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "GICv2: %u vCPUs, but a GICv2 serves at most 8", vm->nr_vcpus);
        return false;
    }
    if (!gic_place(vm, error)) {
        g_prefix_error(error, "GICv%u: ", vm->arch.gic_version);
        return false;
    }
    return true;
}

/* [vm] mte: memory tagging for the guest. KVM takes it only before any
 * vCPU exists, and only where the host's CPU and kernel have MTE. */
static bool mte_enable(struct vm *vm, GError **error)
{
    struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_MTE };

    if (!(vm->flags & VM_MTE))
        return true;
    if (kvm_check_cap(vm->fd, KVM_CAP_ARM_MTE) <= 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM,
                    "[vm] mte: KVM offers no memory tagging (KVM_CAP_ARM_MTE): the host's CPU "
                    "or kernel lacks MTE");
        return false;
    }
    if (vmm_ioctl(vm->fd, KVM_ENABLE_CAP, &cap, error) < 0)
        return false;
    vm->arch.mte = true;
    return true;
}

/* The ITS turns MSI writes into LPIs: PCI devices' MSI/MSI-X and
 * kvm-unit-tests' its-* tests want it. KVM emulates it in software, so
 * any host with a GICv3 vGIC may offer it; without one the machine simply
 * has none (no node in the device tree), which is said once. */
static bool its_create(struct vm *vm, GError **error)
{
    struct kvm_create_device dev = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
    uint64_t base = VMM_ARM_GITS_BASE;
    struct kvm_device_attr attr = {
        .group = KVM_DEV_ARM_VGIC_GRP_ADDR, .attr = KVM_VGIC_ITS_ADDR_TYPE,
        .addr = (uintptr_t)&base,
    };

    if (vm->arch.gic_version != 3) /* the ITS is GICv3's; PCI functions use INTx */
        return true;
    if (vmm_ioctl(vm->fd, KVM_CREATE_DEVICE, &dev, NULL) < 0) {
        vmm_log("KVM offers no GICv3 ITS (KVM_DEV_TYPE_ARM_VGIC_ITS): the guest has no MSIs");
        return true;
    }
    vm->arch.its_fd = dev.fd;
    vm->arch.its = true;
    if (vmm_ioctl(dev.fd, KVM_SET_DEVICE_ATTR, &attr, error) < 0) {
        g_prefix_error(error, "GICv3 ITS: ");
        return false;
    }
    return true;
}

/* What the vCPUs get beyond the base architecture, from what KVM offers;
 * a missing feature is said once, and is not an error. */
static void host_features(struct vm *vm)
{
    vm->arch.pmu = kvm_check_cap(vm->fd, KVM_CAP_ARM_PMU_V3) > 0;
    vm->arch.sve = kvm_check_cap(vm->fd, KVM_CAP_ARM_SVE) > 0;
    if (!vm->arch.pmu)
        vmm_log("KVM offers no guest PMU (KVM_CAP_ARM_PMU_V3): the guest runs without one");
}

bool arch_vm_init(struct vm *vm, GError **error)
{
    struct vm_layout l;

    vm->arch.gic_fd = -1;
    vm->arch.its_fd = -1;
    /* What the config check approved; checked again, so that no caller
     * can build a machine whose structures overlap or leave RAM. */
    if (!arch_layout(vm->ram_size, vm->nr_vcpus, vm->flags & VM_LINUX, &l, error))
        return false;
    vm->arch.dtb_gpa = l.dtb_gpa;
    /* An MMIO access KVM cannot decode becomes an exit vmm can report. */
    if (kvm_check_cap(vm->fd, KVM_CAP_ARM_NISV_TO_USER)) {
        struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

        if (vmm_ioctl(vm->fd, KVM_ENABLE_CAP, &cap, error) < 0)
            return false;
    }
    ucall_area_init(vm, l.ucall_gpa);
    host_features(vm);
    return mte_enable(vm, error) && map_default_vectors(vm, error) && gic_create(vm, error) &&
           its_create(vm, error) &&
           iobus_register(&vm->iobus, IOBUS_MMIO, VMM_ARM_UCALL_DOORBELL, VMM_ARM_UCALL_SIZE,
                          ucall_doorbell, NULL, "ucall", error) &&
           machine_realize(vm, error);
}

bool arch_vm_finalize(struct vm *vm, GError **error)
{
    struct kvm_device_attr init = {
        .group = KVM_DEV_ARM_VGIC_GRP_CTRL, .attr = KVM_DEV_ARM_VGIC_CTRL_INIT,
    };

    /* The GIC can only be initialised once every vCPU exists. */
    if (vmm_ioctl(vm->arch.gic_fd, KVM_SET_DEVICE_ATTR, &init, error) < 0) {
        g_prefix_error(error, "GICv%u init: ", vm->arch.gic_version);
        return false;
    }
    if (vm->arch.its && vmm_ioctl(vm->arch.its_fd, KVM_SET_DEVICE_ATTR, &init, error) < 0) {
        g_prefix_error(error, "GICv3 ITS init: ");
        return false;
    }
    for (unsigned i = 0; vm->arch.pmu && i < vm->nr_vcpus; i++)
        if (!arm_vcpu_pmu_init(&vm->vcpus[i], error))
            return false;
    return arm_fdt_build(vm, "", error);
}

bool arch_handle_exit(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;

    if (run->exit_reason == KVM_EXIT_HYPERCALL) {
        arm_handle_hypercall(vcpu);
        return true;
    }
    if (run->exit_reason == KVM_EXIT_ARM_NISV) {
        vcpu_crash(vcpu, "MMIO access at %#llx that KVM cannot decode",
                   (unsigned long long)run->arm_nisv.fault_ipa);
        return true;
    }
    return false;
}

void arch_vm_destroy(struct vm *vm)
{
    if (vm->arch.gic_fd > 0) /* 0: never created */
        close(vm->arch.gic_fd);
    vm->arch.gic_fd = -1;
    if (vm->arch.its_fd > 0)
        close(vm->arch.its_fd);
    vm->arch.its_fd = -1;
}

/* What the vGIC's initialisation routed (KVM's default routing on arm64):
 * GSI n to SPI n, for each SPI the distributor has (NR_IRQS counts the
 * 32 private interrupts too). KVM_IRQ_LINE does not go through the table,
 * but an irqfd on an SPI does, so they stay as KVM made them. */
struct kvm_irq_routing_entry *arch_irq_default_routes(struct vm *vm, unsigned *n,
                                                      GError **error)
{
    uint32_t nr_irqs = 0;
    struct kvm_device_attr attr = {
        .group = KVM_DEV_ARM_VGIC_GRP_NR_IRQS, .addr = (uintptr_t)&nr_irqs,
    };
    struct kvm_irq_routing_entry *e;

    if (vmm_ioctl(vm->arch.gic_fd, KVM_GET_DEVICE_ATTR, &attr, error) < 0)
        return NULL;
    if (nr_irqs < 32 || nr_irqs > 1020) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "the vGIC has %u interrupts", nr_irqs);
        return NULL;
    }
    *n = nr_irqs - 32;
    e = g_new0(struct kvm_irq_routing_entry, MAX(*n, 1u));
    for (uint32_t spi = 0; spi < *n; spi++)
        e[spi] = (struct kvm_irq_routing_entry){
            .gsi = spi, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { .irqchip = 0, .pin = spi },
        };
    return e;
}
