/*
 * Device models fed through the I/O registry without KVM: what a guest
 * writes that the device does not understand changes nothing; the writes
 * that mean "reset", "power off" or "exit" end the VM the right way.
 */
#include <check.h>

#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/exit_device.h"
#include "vmm/hw/i8042.h"
#include "vmm/vm.h"

#include "unit.h"

static struct vm vm;
static struct vcpu vcpu;

static void setup(void)
{
    memset(&vm, 0, sizeof(vm));
    vm.name = "t";
    g_mutex_init(&vm.lock);
    g_cond_init(&vm.cond);
    iobus_init(&vm.iobus);
    vcpu.vm = &vm;
    ck_assert(i8042_register(&vm, NULL));
    ck_assert(acpi_sleep_register(&vm, NULL));
    ck_assert(exit_device_register_pio(&vm, 0xf4, 0xf8, NULL));
}

static void teardown(void)
{
    iobus_destroy(&vm.iobus);
    g_free(vm.stop.message);
    g_mutex_clear(&vm.lock);
    g_cond_clear(&vm.cond);
}

static void out(uint16_t port, uint32_t v, unsigned len)
{
    uint8_t data[4];

    memcpy(data, &v, sizeof(data));
    iobus_access(&vm.iobus, IOBUS_PIO, &vcpu, port, data, len, true);
}

static uint8_t in(uint16_t port)
{
    uint8_t v = 0;

    iobus_access(&vm.iobus, IOBUS_PIO, &vcpu, port, &v, 1, false);
    return v;
}

START_TEST(i8042_ignores_what_it_does_not_know)
{
    static const uint8_t junk[] = { 0x00, 0x01, 0xad, 0xae, 0xed, 0xf0, 0xff };

    for (size_t i = 0; i < G_N_ELEMENTS(junk); i++) {
        out(I8042_CMD_PORT, junk[i], 1);
        out(I8042_DATA_PORT, junk[i], 1);
    }
    out(I8042_CMD_PORT, 0xd1, 1);         /* write output port, reset bit kept high */
    out(I8042_DATA_PORT, 0x01, 1);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_NONE);
    out(I8042_CMD_PORT, 0xaa, 1);         /* self-test answers 0x55 */
    ck_assert_uint_eq(in(I8042_DATA_PORT), 0x55);
    out(I8042_CMD_PORT, I8042_CMD_RESET, 1);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_RESET);
    ck_assert_int_eq(vm.stop.status, 0);
}
END_TEST

START_TEST(i8042_output_port_reset)
{
    out(I8042_CMD_PORT, 0xd1, 1);
    out(I8042_DATA_PORT, 0xfe, 1);        /* bit 0 low: reset */
    ck_assert_int_eq(vm.stop.reason, VM_STOP_RESET);
}
END_TEST

START_TEST(acpi_sleep_only_s5)
{
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == ACPI_S5_SLP_TYP)
            continue;
        out(ACPI_SLEEP_CONTROL_PORT, 0x20 | typ << 2, 1); /* SLP_EN, another state */
    }
    out(ACPI_SLEEP_CONTROL_PORT, ACPI_S5_SLP_TYP << 2, 1); /* S5 without SLP_EN */
    out(ACPI_SLEEP_STATUS_PORT, 0xff, 1);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_NONE);
    out(ACPI_SLEEP_CONTROL_PORT, 0x20 | ACPI_S5_SLP_TYP << 2, 1);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_POWEROFF);
    ck_assert_int_eq(vm.stop.status, 0);
}
END_TEST

START_TEST(exit_status_above_119)
{
    out(0xf8, 200, 4);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_GUEST_EXIT);
    ck_assert_int_eq(vm.stop.status, 119);
    ck_assert_ptr_nonnull(strstr(vm.stop.message, "200 is above 119"));
}
END_TEST

START_TEST(debug_exit_shape)
{
    out(0xf4, 3, 1);                      /* QEMU isa-debug-exit: (3 << 1) | 1 */
    ck_assert_int_eq(vm.stop.status, 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("devices");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, i8042_ignores_what_it_does_not_know);
    tcase_add_test(tc, i8042_output_port_reset);
    tcase_add_test(tc, acpi_sleep_only_s5);
    tcase_add_test(tc, exit_status_above_119);
    tcase_add_test(tc, debug_exit_shape);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
