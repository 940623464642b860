/* The device tree an aarch64 guest boots with (x0 at entry). */
#include <libfdt.h>
#include <string.h>

#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/hw/dt.h"
#include "vmm/ucall.h"
#include "vmm/vm.h"
#include "aarch64.h"
#include "vcpu_features.h"

enum { PHANDLE_GIC = 1, PHANDLE_FIRST_FREE };

/* GIC interrupt specifier cells. */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_LEVEL_HIGH 4

static int add_cpus(void *fdt, struct vm *vm)
{
    int err = fdt_begin_node(fdt, "cpus");

    err |= fdt_property_u32(fdt, "#address-cells", 1);
    err |= fdt_property_u32(fdt, "#size-cells", 0);
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        /* Aff2..Aff0: KVM numbers vCPUs so that Aff3 stays 0. */
        uint32_t reg = vm->vcpus[i].arch.mpidr & 0xffffff;
        char name[32];

        g_snprintf(name, sizeof(name), "cpu@%x", reg);
        err |= fdt_begin_node(fdt, name);
        err |= fdt_property_string(fdt, "device_type", "cpu");
        err |= fdt_property_string(fdt, "compatible", "arm,armv8");
        err |= fdt_property_string(fdt, "enable-method", "psci");
        err |= fdt_property_u32(fdt, "reg", reg);
        err |= fdt_end_node(fdt);
    }
    return err | fdt_end_node(fdt);
}

/* The ITS, a child of the GIC node (the GICv3 binding), when the VM has
 * one: one cell of device ID per MSI. Its parent gains the address cells
 * and the empty ranges a child with a reg needs, which changes every
 * interrupt-map that names the GIC (device_fdt.intc_address_cells). */
static int add_its(void *fdt, struct vm *vm, uint32_t phandle)
{
    fdt64_t reg[2] = { cpu_to_fdt64(VMM_ARM_GITS_BASE), cpu_to_fdt64(VMM_ARM_GITS_SIZE) };
    char name[48];
    int err;

    if (!vm->arch.its)
        return 0;
    err = fdt_property_u32(fdt, "#address-cells", 2);
    err |= fdt_property_u32(fdt, "#size-cells", 2);
    err |= fdt_property(fdt, "ranges", NULL, 0);
    g_snprintf(name, sizeof(name), "msi-controller@%llx", (unsigned long long)VMM_ARM_GITS_BASE);
    err |= fdt_begin_node(fdt, name);
    err |= fdt_property_string(fdt, "compatible", "arm,gic-v3-its");
    err |= fdt_property(fdt, "msi-controller", NULL, 0);
    err |= fdt_property_u32(fdt, "#msi-cells", 1);
    err |= fdt_property(fdt, "reg", reg, sizeof(reg));
    err |= fdt_property_u32(fdt, "phandle", phandle); /* the PCI host's msi-map */
    return err | fdt_end_node(fdt);
}

/* A PPI's flags cell: GICv2's binding also names, in bits 8-15, the CPUs
 * the interrupt is wired to (every vCPU); GICv3's has no such field. */
static uint32_t ppi_flags(struct vm *vm)
{
    if (vm->arch.gic_version != 2)
        return IRQ_LEVEL_HIGH;
    return IRQ_LEVEL_HIGH | (((1u << vm->nr_vcpus) - 1) & 0xff) << 8;
}

static int add_gic(void *fdt, struct vm *vm, uint32_t its_phandle)
{
    fdt64_t reg[4] = {
        cpu_to_fdt64(VMM_ARM_GICD_BASE), cpu_to_fdt64(VMM_ARM_GICD_SIZE),
        cpu_to_fdt64(VMM_ARM_GICR_BASE), cpu_to_fdt64(GICR_STRIDE * vm->nr_vcpus),
    };
    char name[48];
    int err;

    if (vm->arch.gic_version == 2) {
        reg[2] = cpu_to_fdt64(VMM_ARM_GICC_BASE);
        reg[3] = cpu_to_fdt64(VMM_ARM_GICC_SIZE);
    }
    g_snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)VMM_ARM_GICD_BASE);
    err = fdt_begin_node(fdt, name);
    err |= fdt_property_string(fdt, "compatible",
                               vm->arch.gic_version == 2 ? "arm,cortex-a15-gic" : "arm,gic-v3");
    err |= fdt_property_u32(fdt, "#interrupt-cells", 3);
    err |= fdt_property(fdt, "interrupt-controller", NULL, 0);
    err |= fdt_property(fdt, "reg", reg, sizeof(reg));
    err |= fdt_property_u32(fdt, "phandle", PHANDLE_GIC);
    err |= add_its(fdt, vm, its_phandle);
    return err | fdt_end_node(fdt);
}

static int add_gic_timer_psci(void *fdt, struct vm *vm, uint32_t its_phandle)
{
    uint32_t f = ppi_flags(vm);
    uint32_t timer_irqs[] = {
        /* secure physical, non-secure physical, virtual, hypervisor PPIs */
        GIC_PPI, 13, f, GIC_PPI, 14, f, GIC_PPI, 11, f, GIC_PPI, 10, f,
    };
    int err;

    for (size_t i = 0; i < G_N_ELEMENTS(timer_irqs); i++)
        timer_irqs[i] = cpu_to_fdt32(timer_irqs[i]);

    err = add_gic(fdt, vm, its_phandle);
    err |= fdt_begin_node(fdt, "timer");
    err |= fdt_property_string(fdt, "compatible", "arm,armv8-timer");
    err |= fdt_property(fdt, "interrupts", timer_irqs, sizeof(timer_irqs));
    err |= fdt_property(fdt, "always-on", NULL, 0);
    err |= fdt_end_node(fdt);

    err |= fdt_begin_node(fdt, "psci");
    err |= fdt_property_string(fdt, "compatible", "arm,psci-0.2");
    err |= fdt_property_string(fdt, "method", "hvc");
    return err | fdt_end_node(fdt);
}

/* The PMU, when the vCPUs have one: its overflow interrupt, a PPI. */
static int add_pmu(void *fdt, struct vm *vm)
{
    uint32_t irq[] = {
        cpu_to_fdt32(GIC_PPI), cpu_to_fdt32(ARM_PMU_PPI), cpu_to_fdt32(ppi_flags(vm)),
    };
    int err;

    if (!vm->arch.pmu)
        return 0;
    err = fdt_begin_node(fdt, "pmu");
    err |= fdt_property_string(fdt, "compatible", "arm,armv8-pmuv3");
    err |= fdt_property(fdt, "interrupts", irq, sizeof(irq));
    return err | fdt_end_node(fdt);
}

/* The interrupt specifier of SPI @irq: level-triggered, as every device
 * model's line is. */
static unsigned spi_cells(int irq, uint32_t cells[4])
{
    cells[0] = GIC_SPI;
    cells[1] = irq;
    cells[2] = IRQ_LEVEL_HIGH;
    return 3;
}

/* The ucall doorbell, and where the per-vCPU structures are. */
static int add_ucall(void *fdt, struct vm *vm)
{
    char name[48];
    int err;

    g_snprintf(name, sizeof(name), "vmm-ucall@%llx", (unsigned long long)VMM_ARM_UCALL_DOORBELL);
    err = fdt_begin_node(fdt, name);
    err |= fdt_property_string(fdt, "compatible", "vmm,ucall");
    err |= device_fdt_u64_pair(fdt, "reg", VMM_ARM_UCALL_DOORBELL, VMM_ARM_UCALL_SIZE);
    err |= device_fdt_u64_pair(fdt, "vmm,ucall-area", ucall_area_gpa(vm), ucall_area_size(vm->nr_vcpus));
    return err | fdt_end_node(fdt);
}

bool arm_fdt_build(struct vm *vm, const char *bootargs, GError **error)
{
    size_t size = 64 * 1024;
    g_autofree void *fdt = g_malloc0(size);
    struct device_fdt devs = {
        .fdt = fdt, .next_phandle = PHANDLE_FIRST_FREE + vm->arch.its, .intc_phandle = PHANDLE_GIC,
        .intc_address_cells = vm->arch.its ? 2 : 0, /* add_its() */
        /* The ITS's, the first free one: a tree without it is unchanged. */
        .msi_phandle = vm->arch.its ? PHANDLE_FIRST_FREE : 0,
        .irq_cells = spi_cells,
    };
    const struct device *console = devices_stdout(&vm->devices);
    char memname[48], stdout_path[64] = "/";
    void *dst;
    int err;

    g_snprintf(memname, sizeof(memname), "memory@%llx", (unsigned long long)vm->mem.ram->gpa);
    if (console)
        device_fdt_node_name(console, stdout_path + 1, sizeof(stdout_path) - 1);

    err = fdt_create(fdt, size);
    err |= fdt_finish_reservemap(fdt);
    err |= fdt_begin_node(fdt, "");
    err |= fdt_property_string(fdt, "compatible", "linux,dummy-virt");
    err |= fdt_property_string(fdt, "model", "vmm");
    err |= fdt_property_u32(fdt, "#address-cells", 2);
    err |= fdt_property_u32(fdt, "#size-cells", 2);
    err |= fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC);

    err |= fdt_begin_node(fdt, "chosen");
    err |= fdt_property_string(fdt, "bootargs", bootargs);
    if (console)
        err |= fdt_property_string(fdt, "stdout-path", stdout_path);
    if (vm->arch.initrd_end > vm->arch.initrd_start) {
        err |= fdt_property_u64(fdt, "linux,initrd-start", vm->arch.initrd_start);
        err |= fdt_property_u64(fdt, "linux,initrd-end", vm->arch.initrd_end);
    }
    err |= fdt_end_node(fdt);

    err |= fdt_begin_node(fdt, memname);
    err |= fdt_property_string(fdt, "device_type", "memory");
    err |= device_fdt_u64_pair(fdt, "reg", vm->mem.ram->gpa, vm->ram_size);
    err |= fdt_end_node(fdt);

    err |= add_cpus(fdt, vm);
    err |= add_gic_timer_psci(fdt, vm, devs.msi_phandle);
    err |= add_pmu(fdt, vm);
    err |= devices_fdt(&vm->devices, &devs);
    err |= add_ucall(fdt, vm);
    err |= fdt_end_node(fdt);
    err |= fdt_finish(fdt);
    if (err) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "building the device tree failed");
        return false;
    }
    dst = gpa_to_hva(&vm->mem, vm->arch.dtb_gpa, fdt_totalsize(fdt));
    if (!dst) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "guest RAM is too small for the device tree; raise vm.memory");
        return false;
    }
    memcpy(dst, fdt, fdt_totalsize(fdt));
    return true;
}
