/*
 * The device tree an aarch64 guest boots with, built on any host from
 * the aarch64 machine table's devices (their fdt hooks): byte for byte
 * what guests saw before the device model (issue 11), whose SHA-256 is
 * pinned here. A change to these hashes is a change every guest sees:
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

#define DTB_AT 0xe00000

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

    ck_assert_str_eq(fw, "8643182ebfaeb7774a1bca178e983f40399a20725755ea6c4f487b943d48c7c1");
    ck_assert_str_eq(linux_boot,
                     "adc881aaeaaca121d4fb8e14b525fd5f70084713a0f24d3c413ff03e2e0387d8");
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

    /* The PCI host bridge: generic ECAM, one 32-bit memory range. */
    pci = fdt_path_offset(fdt, "/pcie@3f000000");
    ck_assert_int_ge(pci, 0);
    ck_assert_str_eq(fdt_getprop(fdt, pci, "compatible", NULL), "pci-host-ecam-generic");
    ranges = fdt_getprop(fdt, pci, "ranges", &len);
    ck_assert_int_eq(len, 28);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[0]), 0x02000000);
    ck_assert_uint_eq(fdt32_to_cpu(ranges[2]), 0x10000000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fdt");
    TCase *tc = tcase_create("fdt");

    tcase_add_test(tc, tree_unchanged);
    tcase_add_test(tc, tree_has_the_devices);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
