/*
 * The device tree an aarch64 guest boots with, built on any host from
 * the aarch64 machine table's devices (their fdt hooks): byte for byte
 * what guests saw before the device model (issue 11) plus the PL031 RTC
 * node (issue 14), whose SHA-256 is pinned here. A change to these hashes is a change every guest sees:
 * make it on purpose, and boot the bed's aarch64 Linux tests.
 */
#include <check.h>
#include <libfdt.h>

#include "vmm-guest/calls.h"
#include "vmm/console-input.h"
#include "vmm/console.h"
#include "vmm/ucall.h"
#include "vmm/machine.h"
#include "vmm/vm.h"
#include "aarch64.h"

#include "unit.h"

/* What the device models reach beyond the tree: never called here. */
const char arch_name[] = "aarch64";
uint64_t ucall_area_size(unsigned nr_vcpus) { return (uint64_t)nr_vcpus * VMM_UCALL_STRIDE; }
#define UCALL_GPA 0x40f00000ULL
uint64_t ucall_area_gpa(const struct vm *vm) { return UCALL_GPA; }
void console_input_detach(struct console *c, void *opaque) {}
void console_set_input(struct console *c, console_input_fn fn, void *opaque) {}
void console_write(struct console *c, const void *buf, size_t len) {}
void vm_stop(struct vm *vm, vm_stop_reason reason, int status, const char *fmt, ...) {}
void vm_guest_exit(struct vm *vm, unsigned status) {}
void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...) {}
void vm_blocking_begin(struct vm *vm, struct vmm_wait *wake) {}
void vm_blocking_end(struct vm *vm, struct vmm_wait *wake) {}
bool arch_vcpu_s3_resume(struct vcpu *vcpu, GError **error) { return false; }

#define DTB_AT 0xe00000

static bool build_pmu; /* the VM's vCPUs have a PMU (KVM_CAP_ARM_PMU_V3) */
static bool build_its; /* the VM has a GICv3 ITS */
static unsigned build_gic = 3; /* the vGIC's version */

/* The tree of a VM of @nr_vcpus; a Linux boot with an initrd when
 * @bootargs is not empty. */
static void *build(const char *bootargs, unsigned nr_vcpus, char **sha256)
{
    static struct vcpu vcpus[4];
    struct vm vm = { 0 };
    uint64_t size = 16 << 20;
    uint8_t *ram = g_malloc0(size);
    GError *err = NULL;
    void *fdt;

    vm.name = "fdt";
    vm.fd = -1;
    vm.flags = *bootargs ? VM_LINUX : 0;
    vm.nr_vcpus = nr_vcpus;
    vm.vcpus = vcpus;
    vm.arch.pmu = build_pmu;
    vm.arch.its = build_its;
    vm.arch.gic_version = build_gic;
    for (unsigned i = 0; i < nr_vcpus; i++)
        vcpus[i].arch.mpidr = 0x80000000 | i;
    vm.mem.regions[0] = (struct mem_region){ .gpa = 0x40000000, .size = size, .hva = ram };
    vm.mem.nr = 1;
    vm.mem.ram = &vm.mem.regions[0];
    vm.ram_size = size;
    vm.arch.dtb_gpa = 0x40000000 + DTB_AT;
    if (*bootargs) {
        vm.arch.initrd_start = 0x40800000;
        vm.arch.initrd_end = 0x40900000;
    }
    iobus_init(&vm.iobus);
    ck_assert(machine_realize(&vm, NULL));
    ck_assert_msg(arm_fdt_build(&vm, bootargs, &err), "%s", err ? err->message : "");
    fdt = ram + DTB_AT;
    *sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, fdt, fdt_totalsize(fdt));
    devices_destroy(&vm.devices);
    iobus_destroy(&vm.iobus);
    return ram;
}

START_TEST(tree_unchanged)
{
    g_autofree char *fw = NULL, *linux_boot = NULL;
    g_autofree void *a = build("", 1, &fw);
    g_autofree void *b = build("console=x panic=-1", 4, &linux_boot);

    ck_assert_str_eq(fw, "cc8a842e6b139ba607912826abc18c4eead072ed3d38a73482a8f57f87c9673b");
    ck_assert_str_eq(linux_boot,
                     "1d6721207ea8e5579cc66922b99475253910de8a71cb0648520733f9dcd86d08");
}
END_TEST

/* What the hooks put there, so a hash mismatch has a readable companion. */
START_TEST(tree_has_the_devices)
{
    g_autofree char *sum = NULL;
    g_autofree uint8_t *ram = build("console=x", 2, &sum);
    void *fdt = ram + DTB_AT;
    int uart = fdt_path_offset(fdt, "/pl011@9000000");
    int clk = fdt_path_offset(fdt, "/apb-pclk");
    int rtc = fdt_path_offset(fdt, "/pl031@9010000");
    const fdt32_t *irq, *clocks, *ranges;
    int len, pci;

    ck_assert_int_ge(uart, 0);
    ck_assert_int_ge(clk, 0);
    ck_assert_int_ge(fdt_path_offset(fdt, "/vmm-exit@90f0000"), 0);
    ck_assert_str_eq(fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "stdout-path", NULL),
                     "/pl011@9000000");
    irq = fdt_getprop(fdt, uart, "interrupts", &len);
    ck_assert_int_eq(len, 12);
    ck_assert_uint_eq(fdt32_to_cpu(irq[0]), 0);   /* SPI */
    ck_assert_uint_eq(fdt32_to_cpu(irq[1]), 1);   /* QEMU virt's UART SPI */
    ck_assert_uint_eq(fdt32_to_cpu(irq[2]), 4);   /* level, high */
    clocks = fdt_getprop(fdt, uart, "clocks", &len);
    ck_assert_int_eq(len, 8);
    ck_assert_uint_eq(fdt32_to_cpu(clocks[0]), fdt_get_phandle(fdt, clk));

    /* The PCI host bridge: generic ECAM, the I/O window (ports 0-0xffff at
     * 0x3eff0000, as on QEMU's virt machine), one 32-bit memory range. */
    pci = fdt_path_offset(fdt, "/pcie@3f000000");
    ck_assert_int_ge(pci, 0);
    ck_assert_str_eq(fdt_getprop(fdt, pci, "compatible", NULL), "pci-host-ecam-generic");
    ranges = fdt_getprop(fdt, pci, "ranges", &len);
    ck_assert_int_eq(len, 56);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[0]), 0x01000000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[2]), 0);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[4]), 0x3eff0000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[6]), 0x10000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[7]), 0x02000000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[9]), 0x10000000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[13]), 0x2eff0000);
    /* The PL031 RTC: QEMU virt's address and SPI 2, the same bus clock. */
    ck_assert_int_ge(rtc, 0);
    ck_assert_int_eq(fdt_node_check_compatible(fdt, rtc, "arm,pl031"), 0);
    ck_assert_int_eq(fdt_node_check_compatible(fdt, rtc, "arm,primecell"), 0);
    irq = fdt_getprop(fdt, rtc, "interrupts", &len);
    ck_assert_int_eq(len, 12);
    ck_assert_uint_eq(fdt32_to_cpu(irq[0]), 0);   /* SPI */
    ck_assert_uint_eq(fdt32_to_cpu(irq[1]), 2);
    clocks = fdt_getprop(fdt, rtc, "clocks", &len);
    ck_assert_int_eq(len, 4);
    ck_assert_uint_eq(fdt32_to_cpu(clocks[0]), fdt_get_phandle(fdt, clk));
    ck_assert_str_eq(fdt_getprop(fdt, rtc, "clock-names", NULL), "apb_pclk");
}
END_TEST

/* An ITS node, a child of the GIC's, exactly when the VM has an ITS. */
START_TEST(its_node_with_the_its)
{
    g_autofree char *sum = NULL, *sum_its = NULL;
    g_autofree uint8_t *ram = build("console=x", 2, &sum);
    g_autofree uint8_t *ram_its = NULL;
    const fdt64_t *reg;
    void *fdt;
    int gic, its, len;

    ck_assert_int_lt(fdt_node_offset_by_compatible(ram + DTB_AT, -1, "arm,gic-v3-its"), 0);
    build_its = true;
    ram_its = build("console=x", 2, &sum_its);
    build_its = false;
    fdt = ram_its + DTB_AT;
    gic = fdt_path_offset(fdt, "/intc@8000000");
    its = fdt_path_offset(fdt, "/intc@8000000/msi-controller@8080000");
    ck_assert_int_ge(gic, 0);
    ck_assert_int_ge(its, 0);
    ck_assert_int_eq(fdt_node_check_compatible(fdt, its, "arm,gic-v3-its"), 0);
    ck_assert_ptr_nonnull(fdt_getprop(fdt, its, "msi-controller", NULL));
    ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, its, "#msi-cells", NULL)), 1);
    reg = fdt_getprop(fdt, its, "reg", &len);
    ck_assert_int_eq(len, 16);
    ck_assert_uint_eq(fdt64_ld(&reg[0]), 0x08080000);
    ck_assert_uint_eq(fdt64_ld(&reg[1]), 0x20000);
    /* the parent says how to read the child's reg */
    ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, gic, "#address-cells", NULL)), 2);
    ck_assert_ptr_nonnull(fdt_getprop(fdt, gic, "ranges", NULL));
    /* the PCI host's interrupt-map gives the GIC's 2 address cells (zeros)
     * between its phandle and the SPI: 4 + 1 + 2 + 3 cells an entry, 16
     * entries; without the ITS, 4 + 1 + 3 */
    {
        int pci = fdt_path_offset(fdt, "/pcie@3f000000");
        const fdt32_t *map = fdt_getprop(fdt, pci, "interrupt-map", &len);

        ck_assert_int_eq(len, 16 * 10 * 4);
        ck_assert_uint_eq(fdt32_to_cpu(map[5]), 0);
        ck_assert_uint_eq(fdt32_to_cpu(map[6]), 0);
        ck_assert_uint_eq(fdt32_to_cpu(map[7]), 0);   /* GIC_SPI */
        pci = fdt_path_offset(ram + DTB_AT, "/pcie@3f000000");
        ck_assert_ptr_nonnull(fdt_getprop(ram + DTB_AT, pci, "interrupt-map", &len));
        ck_assert_int_eq(len, 16 * 8 * 4);
    }
    /* MSIs from PCI: the host's msi-map sends every requester ID to the
     * ITS as the same device ID (what vmm's KVM_SIGNAL_MSI gives); none
     * without the ITS */
    {
        int pci = fdt_path_offset(fdt, "/pcie@3f000000");
        const fdt32_t *map = fdt_getprop(fdt, pci, "msi-map", &len);
        const fdt32_t *ph = fdt_getprop(fdt, its, "phandle", NULL);

        ck_assert_ptr_nonnull(map);
        ck_assert_ptr_nonnull(ph);
        ck_assert_int_eq(len, 4 * 4);
        ck_assert_uint_eq(fdt32_to_cpu(map[0]), 0);
        ck_assert_uint_eq(fdt32_to_cpu(map[1]), fdt32_to_cpu(*ph));
        ck_assert_uint_eq(fdt32_to_cpu(map[2]), 0);
        ck_assert_uint_eq(fdt32_to_cpu(map[3]), 0x10000);
        ck_assert_int_eq(fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*ph)), its);
        pci = fdt_path_offset(ram + DTB_AT, "/pcie@3f000000");
        ck_assert_ptr_null(fdt_getprop(ram + DTB_AT, pci, "msi-map", NULL));
    }
    /* and it does not overlap the redistributors that follow it */
    ck_assert_uint_le(0x08080000 + 0x20000, 0x080a0000);
}
END_TEST

/* A PMU node exactly when the vCPUs have a PMU: QEMU virt's PPI 7, level. */
START_TEST(pmu_node_with_the_pmu)
{
    g_autofree char *sum = NULL, *sum_pmu = NULL;
    g_autofree uint8_t *ram = build("console=x", 2, &sum);
    g_autofree uint8_t *ram_pmu = NULL;
    const fdt32_t *irq;
    void *fdt;
    int pmu, len;

    ck_assert_int_lt(fdt_path_offset(ram + DTB_AT, "/pmu"), 0);
    build_pmu = true;
    ram_pmu = build("console=x", 2, &sum_pmu);
    build_pmu = false;
    fdt = ram_pmu + DTB_AT;
    pmu = fdt_path_offset(fdt, "/pmu");
    ck_assert_int_ge(pmu, 0);
    ck_assert_int_eq(fdt_node_check_compatible(fdt, pmu, "arm,armv8-pmuv3"), 0);
    irq = fdt_getprop(fdt, pmu, "interrupts", &len);
    ck_assert_int_eq(len, 12);
    ck_assert_uint_eq(fdt32_to_cpu(irq[0]), 1);   /* PPI */
    ck_assert_uint_eq(fdt32_to_cpu(irq[1]), 7);   /* INTID 23 */
    ck_assert_uint_eq(fdt32_to_cpu(irq[2]), 4);   /* level, high */
}
END_TEST

/* A GICv2: the CPU interface where GICv3's redistributors were, and the
 * PPIs (timer, PMU) name every vCPU in their flags, as its binding asks. */
START_TEST(gicv2_node_and_ppis)
{
    g_autofree char *sum = NULL;
    g_autofree uint8_t *ram = NULL;
    const fdt64_t *reg;
    const fdt32_t *irq;
    void *fdt;
    int gic, len;

    build_gic = 2;
    build_pmu = true;
    ram = build("console=x", 3, &sum);
    build_gic = 3;
    build_pmu = false;
    fdt = ram + DTB_AT;
    gic = fdt_path_offset(fdt, "/intc@8000000");
    ck_assert_int_ge(gic, 0);
    ck_assert_int_eq(fdt_node_check_compatible(fdt, gic, "arm,cortex-a15-gic"), 0);
    ck_assert_int_lt(fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3"), 0);
    reg = fdt_getprop(fdt, gic, "reg", &len);
    ck_assert_int_eq(len, 32);
    ck_assert_uint_eq(fdt64_ld(&reg[0]), 0x08000000);
    ck_assert_uint_eq(fdt64_ld(&reg[1]), 0x10000);
    ck_assert_uint_eq(fdt64_ld(&reg[2]), 0x08010000);
    ck_assert_uint_eq(fdt64_ld(&reg[3]), 0x2000);
    irq = fdt_getprop(fdt, fdt_path_offset(fdt, "/timer"), "interrupts", &len);
    ck_assert_int_eq(len, 48);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(fdt32_to_cpu(irq[3 * i]), 1);          /* PPI */
        ck_assert_uint_eq(fdt32_to_cpu(irq[3 * i + 2]), 0x704); /* vCPUs 0-2, level high */
    }
    irq = fdt_getprop(fdt, fdt_path_offset(fdt, "/pmu"), "interrupts", &len);
    ck_assert_int_eq(len, 12);
    ck_assert_uint_eq(fdt32_to_cpu(irq[2]), 0x704);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fdt");
    TCase *tc = tcase_create("fdt");

    tcase_add_test(tc, tree_unchanged);
    tcase_add_test(tc, tree_has_the_devices);
    tcase_add_test(tc, pmu_node_with_the_pmu);
    tcase_add_test(tc, its_node_with_the_its);
    tcase_add_test(tc, gicv2_node_and_ppis);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
