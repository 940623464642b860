/*
 * Device models realized from machine-table lines and fed through the I/O
 * registry without KVM: what a guest writes that the device does not
 * understand changes nothing; the writes that mean "reset", "power off"
 * or "exit" end the VM the right way; every model realizes, resets to its
 * power-on state and is destroyed (leaks show in the build-asan leg); the
 * receive FIFO both UARTs share takes input whenever the receiver is on,
 * interrupt masked or not (a guest may poll), and holds back what does
 * not fit.
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm-guest/platform.h"
#include "vmm/console.h"
#include "vmm/device.h"
#include "vmm/hw/acpi_pm1.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/exit_device.h"
#include "vmm/hw/fw_cfg.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/hw/pc_testdev.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/mc146818.h"
#include "vmm/hw/pl011.h"
#include "vmm/hw/pl031.h"
#include "vmm/hw/uart16550.h"
#include "vmm/hw/uart_rx.h"
#include "vmm/irq_routes.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

#include "unit.h"

#define COM1 VMM_X86_COM1_PORT
#define PL011 VMM_ARM_PL011_BASE

static const struct device_desc pc[] = {
    { &i8042_device,       I8042_DATA_PORT,         5,      -1, DEVICE_BOOT_ANY },
    { &acpi_sleep_device,  ACPI_SLEEP_CONTROL_PORT, 2,      -1, DEVICE_BOOT_ANY },
    { &debug_exit_device,  0xf4,                    4,      -1, DEVICE_BOOT_ANY },
    { &exit_status_device, 0xf8,                    4,      -1, DEVICE_BOOT_ANY },
    { &uart16550_device,   COM1,                    8,       4, DEVICE_BOOT_ANY },
    { &pl011_device,       PL011,                   0x1000,  1, DEVICE_BOOT_ANY },
    { &exit_mmio_device,   VMM_ARM_EXIT_BASE,       0x1000, -1, DEVICE_BOOT_ANY },
    { &pl031_device,       VMM_ARM_PL031_BASE,      0x1000,  2, DEVICE_BOOT_ANY },
    { &fw_cfg_device,      FW_CFG_PORT,             2,      -1, DEVICE_BOOT_ANY },
    { &mc146818_device,    MC146818_INDEX_PORT,     2,       8, DEVICE_BOOT_ANY },
    { &acpi_pm1_device,    ACPI_PM1_EVT_PORT, ACPI_PM1_PORTS, -1, DEVICE_BOOT_ANY },
};

static struct vm vm;
static struct vcpu vcpu;
static struct console *console;

/* Guest output goes to a file removed at once. */
static struct console *test_console(void)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-devices-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "console", NULL);
    struct console *c = console_open(path, NULL);

    ck_assert_ptr_nonnull(c);
    unlink(path);
    rmdir(dir);
    return c;
}

/* @wired: the UARTs' interrupt lines are live (a Linux boot). Without KVM
 * the ioctl fails (said once), but the level the device asked for stays
 * in its irq_line. */
static void build(bool wired)
{
    struct device_ctx ctx = {
        .iobus = &vm.iobus, .console = console, .ram_size = 0x123456789ULL, .nr_vcpus = 3,
    };

    memset(&vm, 0, sizeof(vm));
    vm.name = "t";
    vm.console = console;
    g_mutex_init(&vm.lock);
    g_cond_init(&vm.cond);
    iobus_init(&vm.iobus);
    vcpu.vm = &vm;
    ck_assert(devices_realize(&vm.devices, pc, G_N_ELEMENTS(pc), DEVICE_BOOT_LINUX, &ctx,
                              wired ? 1000 : -1, machine_kvm_irq, NULL));
}

static void setup(void)
{
    console = test_console();
    build(false);
}

static void teardown(void)
{
    devices_destroy(&vm.devices);
    iobus_destroy(&vm.iobus);
    g_free(vm.stop.message);
    g_mutex_clear(&vm.lock);
    g_cond_clear(&vm.cond);
    console_close(console);
}

static void guest_access(iobus_kind kind, uint64_t addr, uint32_t *v, unsigned len, bool is_write)
{
    uint8_t data[4];

    memcpy(data, v, sizeof(data));
    iobus_access(&vm.iobus, kind, &vcpu, addr, data, len, is_write);
    memcpy(v, data, sizeof(data));
}

static void out(uint16_t port, uint32_t v, unsigned len)
{
    guest_access(IOBUS_PIO, port, &v, len, true);
}

static uint8_t in(uint16_t port)
{
    uint32_t v = 0;

    guest_access(IOBUS_PIO, port, &v, 1, false);
    return v;
}

static void mmio_write(uint64_t addr, uint32_t v)
{
    guest_access(IOBUS_MMIO, addr, &v, 4, true);
}

static uint32_t mmio_read(uint64_t addr)
{
    uint32_t v = 0;

    guest_access(IOBUS_MMIO, addr, &v, 4, false);
    return v;
}

static const struct device *find(const struct device_ops *ops)
{
    for (guint i = 0; i < vm.devices.devices->len; i++) {
        const struct device *d = g_ptr_array_index(vm.devices.devices, i);

        if (d->desc->ops == ops)
            return d;
    }
    ck_abort_msg("no %s", ops->name);
    return NULL;
}

static struct uart_rx *rx_of(const struct device_ops *ops)
{
    return find(ops)->state; /* both UARTs embed it first */
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

static uint8_t cmos(uint8_t reg)
{
    out(MC146818_INDEX_PORT, reg, 1);
    return in(MC146818_INDEX_PORT + 1);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
    out(MC146818_INDEX_PORT, reg, 1);
    out(MC146818_INDEX_PORT + 1, v, 1);
}

static unsigned bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xf); }

/* The CMOS RTC's date from the host's clock in BCD (or binary), date
 * writes that move it, out-of-range writes ignored, RAM. */
START_TEST(cmos_rtc_date)
{
    GDateTime *t = g_date_time_new_now_utc();
    int year = g_date_time_get_year(t) % 100;
    uint8_t sec;

    g_date_time_unref(t);
    ck_assert_uint_eq(cmos(0x0d), 0x80);                 /* D: VRT */
    ck_assert_uint_eq(cmos(0x0a) & 0x7f, 0x26);
    ck_assert_uint_eq(cmos(0x0b), 0x02);                 /* 24-hour, BCD */
    ck_assert_int_eq(bcd(cmos(0x09)), year);
    ck_assert_uint_eq(cmos(0x32), 0x20);                 /* century */
    sec = cmos(0x00);
    ck_assert(bcd(sec) < 60 && (sec & 0xf) < 10);
    cmos_set(0x09, 0x99);
    ck_assert_uint_eq(cmos(0x09), 0x99);
    ck_assert_uint_eq(cmos(0x32), 0x20);
    cmos_set(0x09, 0x9a);                                /* not BCD: ignored */
    cmos_set(0x08, 0x13);                                /* month 13: ignored */
    ck_assert_uint_eq(cmos(0x09), 0x99);
    ck_assert(bcd(cmos(0x08)) >= 1 && bcd(cmos(0x08)) <= 12);
    cmos_set(0x0b, 0x02 | 0x04);                         /* binary */
    ck_assert_uint_eq(cmos(0x09), 99);
    cmos_set(0x40, 0x5a);
    ck_assert_uint_eq(cmos(0x80 | 0x40), 0x5a);          /* bit 7 is the NMI mask */
    ck_assert_uint_eq(in(MC146818_INDEX_PORT), 0xff);    /* write-only */
    cmos_set(0x0d, 0);
    ck_assert_uint_eq(cmos(0x0d), 0x80);
    /* UIP, set for the last 2 ms of each second, is kvm-unit-tests' s3's
     * to see (bed): a look from a loaded host's test misses it too often. */
}
END_TEST

/* The alarm: when it comes next (what an S3 sleep waits for), the flags
 * in register C and the interrupt line, which a read of C clears. */
START_TEST(cmos_rtc_alarm)
{
    struct mc146818 *rtc;
    struct irq_line *line;
    gint64 now, at, deadline;
    uint8_t c = 0;

    teardown();
    console = test_console();
    build(true);
    rtc = find(&mc146818_device)->state;
    line = (struct irq_line *)rtc; /* the model's first member */
    now = g_get_monotonic_time();
    ck_assert(!mc146818_next_alarm(rtc, now, &at));      /* AIE off */
    cmos_set(0x01, 0xc0);
    cmos_set(0x03, 0xff);
    cmos_set(0x05, 0xc0);
    cmos_set(0x0b, 0x02 | 0x20);                         /* AIE */
    ck_assert(mc146818_next_alarm(rtc, now, &at));
    ck_assert(at > now && at <= now + G_USEC_PER_SEC);
    /* the seconds alarm 30 s from now */
    cmos_set(0x01, (uint8_t)(((bcd(cmos(0x00)) + 30) % 60 / 10) << 4 | (bcd(cmos(0x00)) + 30) % 10));
    ck_assert(mc146818_next_alarm(rtc, now, &at));
    ck_assert(at > now + 28 * G_USEC_PER_SEC && at <= now + 31 * G_USEC_PER_SEC);
    cmos_set(0x01, 0xc0);
    cmos(0x0c);
    /* the next second: an access (here of register A) sees the update */
    deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (!line->level) {
        ck_assert(g_get_monotonic_time() < deadline);
        cmos(0x0a);
    }
    c = cmos(0x0c);
    ck_assert_uint_eq(c & 0xb0, 0xb0);                   /* IRQF, AF, UF */
    ck_assert_int_eq(line->level, 0);                    /* the read acknowledged */
}
END_TEST

/* PM1a: status bits clear by writing ones, SCI_EN reads set, SLP_EN
 * reads clear; sleep types other than S3 do nothing, and S3 on a VM of
 * two vCPUs ends it with a message (vmm wakes only one). */
START_TEST(acpi_pm1_registers)
{
    static struct vcpu two[2];
    uint32_t v = 0;

    out(ACPI_PM1_EVT_PORT + 2, 0x0400, 2);               /* RTC_EN */
    guest_access(IOBUS_PIO, ACPI_PM1_EVT_PORT + 2, &v, 2, false);
    ck_assert_uint_eq(v, 0x0400);
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == ACPI_S3_SLP_TYP)
            continue;
        out(ACPI_PM1_EVT_PORT + 4, 0x2000 | typ << 10, 2);
    }
    ck_assert_int_eq(vm.stop.reason, VM_STOP_NONE);
    v = 0;
    guest_access(IOBUS_PIO, ACPI_PM1_EVT_PORT + 4, &v, 2, false);
    ck_assert_uint_eq(v, 7 << 10 | 1);                   /* the last type, SCI_EN; no SLP_EN */
    vm.nr_vcpus = 2;
    vm.vcpus = two;
    out(ACPI_PM1_EVT_PORT + 4, 0x2000 | ACPI_S3_SLP_TYP << 10, 2);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_CRASH);
    ck_assert_msg(strstr(vm.stop.message, "S3 sleep with 2 vCPUs"), "%s", vm.stop.message);
}
END_TEST

/* Accesses wider than a register, as a guest may make them: the RTC's two
 * ports decode one byte each (a 16-bit write is index, then data; the
 * bytes past port 0x71 read as nothing there), and a 32-bit write across
 * PM1a's enable and control registers acts once, when all of it is in. */
START_TEST(wide_accesses)
{
    static struct vcpu two[2];
    uint32_t v;

    out(MC146818_INDEX_PORT, 0x40 | 0x77 << 8, 2);     /* index 0x40, data 0x77 */
    ck_assert_uint_eq(cmos(0x40), 0x77);
    v = 0;
    out(MC146818_INDEX_PORT, 0x40, 1);
    guest_access(IOBUS_PIO, MC146818_INDEX_PORT + 1, &v, 1, false);
    ck_assert_uint_eq(v, 0x77);
    v = 0;
    guest_access(IOBUS_PIO, MC146818_INDEX_PORT, &v, 2, false);
    ck_assert_uint_eq(v, 0x77ff);                        /* index write-only, then data */

    vm.nr_vcpus = 2;
    vm.vcpus = two;
    out(ACPI_PM1_EVT_PORT + 2, 0x0400 | (uint32_t)(0x2000 | 2 << 10) << 16, 4); /* S4: not offered */
    ck_assert_int_eq(vm.stop.reason, VM_STOP_NONE);
    v = 0;
    guest_access(IOBUS_PIO, ACPI_PM1_EVT_PORT + 2, &v, 4, false);
    ck_assert_uint_eq(v, 0x0400 | (uint32_t)(2 << 10 | 1) << 16);
    out(ACPI_PM1_EVT_PORT + 5, 0x20 | ACPI_S3_SLP_TYP << 2, 1); /* SLP_EN in the high byte alone */
    ck_assert_int_eq(vm.stop.reason, VM_STOP_CRASH);     /* S3, two vCPUs */
}
END_TEST

/* An S3 sleep ends when its VM stops (here: it already has), without a
 * wake, and leaves the rest to the stop. */
START_TEST(acpi_pm1_s3_sleep_ends_with_the_vm)
{
    static struct vcpu one;

    vm.nr_vcpus = 1;
    vm.vcpus = &one;
    vm_stop(&vm, VM_STOP_SIGNAL, 143, NULL);
    out(ACPI_PM1_EVT_PORT + 4, 0x2000 | ACPI_S3_SLP_TYP << 10, 2);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_SIGNAL);
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

/* --host-root: the command's status whole, as a shell passes it on. */
START_TEST(exit_status_whole)
{
    vm.flags |= VM_STATUS_WHOLE;
    out(0xf8, 200, 4);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_GUEST_EXIT);
    ck_assert_int_eq(vm.stop.status, 200);
    ck_assert_ptr_null(vm.stop.message);
}
END_TEST

START_TEST(debug_exit_shape)
{
    out(0xf4, 3, 1);                      /* QEMU isa-debug-exit: (3 << 1) | 1 */
    ck_assert_int_eq(vm.stop.status, 7);
}
END_TEST

START_TEST(exit_mmio_registers)
{
    mmio_write(VMM_ARM_EXIT_BASE + VMM_EXIT_REG_STATUS, 42);
    ck_assert_int_eq(vm.stop.reason, VM_STOP_GUEST_EXIT);
    ck_assert_int_eq(vm.stop.status, 42);
}
END_TEST

/* Every line of the table is a realized device with its ranges claimed. */
START_TEST(realize_claims_the_table)
{
    ck_assert_uint_eq(vm.devices.devices->len, G_N_ELEMENTS(pc));
    for (size_t i = 0; i < G_N_ELEMENTS(pc); i++) {
        const struct device *d = g_ptr_array_index(vm.devices.devices, i);
        iobus_kind kind = pc[i].base >= 0x10000 ? IOBUS_MMIO : IOBUS_PIO;

        ck_assert_ptr_eq(d->desc, &pc[i]);
        ck_assert_msg(iobus_find(&vm.iobus, kind, pc[i].base), "%s", pc[i].ops->name);
    }
    ck_assert_ptr_nonnull(iobus_find(&vm.iobus, IOBUS_PIO, I8042_CMD_PORT));
    ck_assert_ptr_null(iobus_find(&vm.iobus, IOBUS_PIO, I8042_DATA_PORT + 1));
    /* The last UART realized is the console's input. */
    ck_assert_ptr_eq(console->input_data, rx_of(&pl011_device));
}
END_TEST

/* A line for another boot is not realized. */
START_TEST(realize_only_for_its_boot)
{
    static const struct device_desc fw_only[] = {
        { &debug_exit_device, 0x500, 4, -1, DEVICE_BOOT_FIRMWARE },
        { &exit_status_device, 0x504, 4, -1, DEVICE_BOOT_LINUX },
    };
    struct device_ctx ctx = { .iobus = &vm.iobus, .console = console };

    ck_assert(devices_realize(&vm.devices, fw_only, 2, DEVICE_BOOT_LINUX, &ctx, -1,
                              machine_kvm_irq, NULL));
    ck_assert_ptr_null(iobus_find(&vm.iobus, IOBUS_PIO, 0x500));
    ck_assert_ptr_nonnull(iobus_find(&vm.iobus, IOBUS_PIO, 0x504));
}
END_TEST

/* A line that cannot claim its range fails with the reason; the device
 * is still destroyed with the rest (no leak under ASan). */
START_TEST(realize_failure_names_the_clash)
{
    static const struct device_desc clash[] = {
        { &uart16550_device, COM1 + 4, 8, -1, DEVICE_BOOT_ANY },
    };
    struct device_ctx ctx = { .iobus = &vm.iobus, .console = console };
    GError *err = NULL;

    ck_assert(!devices_realize(&vm.devices, clash, 1, DEVICE_BOOT_LINUX, &ctx, -1,
                               machine_kvm_irq, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "overlaps uart16550"));
    g_error_free(err);
    ck_assert_uint_eq(vm.devices.devices->len, G_N_ELEMENTS(pc) + 1);
}
END_TEST

START_TEST(reset_to_power_on)
{
    /* 16550: scratch, line control and interrupt enable. */
    out(COM1 + 7, 0x5a, 1);
    out(COM1 + 3, 0x03, 1);
    out(COM1 + 1, 0x0f, 1);
    ck_assert_uint_eq(in(COM1 + 7), 0x5a);
    /* PL011: interrupt mask and line control. */
    mmio_write(PL011 + 0x38, 0x70);
    mmio_write(PL011 + 0x2c, 0x60);
    /* i8042: a command byte written, a reply waiting. */
    out(I8042_CMD_PORT, 0x60, 1);
    out(I8042_DATA_PORT, 0x01, 1);
    out(I8042_CMD_PORT, 0xaa, 1);
    ck_assert_uint_eq(in(I8042_CMD_PORT) & 0x01, 0x01);

    devices_reset(&vm.devices);
    ck_assert_uint_eq(in(COM1 + 7), 0);
    ck_assert_uint_eq(in(COM1 + 3), 0);
    ck_assert_uint_eq(in(COM1 + 1), 0);
    ck_assert_uint_eq(in(COM1 + 2) & 0x0f, 0x01);   /* IIR: nothing pending */
    ck_assert_uint_eq(mmio_read(PL011 + 0x38), 0);
    ck_assert_uint_eq(mmio_read(PL011 + 0x2c), 0);
    ck_assert_uint_eq(mmio_read(PL011 + 0xfe0), 0x11); /* identification is not state */
    ck_assert_uint_eq(in(I8042_CMD_PORT) & 0x01, 0);  /* output buffer empty */
    out(I8042_CMD_PORT, 0x20, 1);
    ck_assert_uint_eq(in(I8042_DATA_PORT), 0x30);   /* the power-on command byte */
    ck_assert_int_eq(vm.stop.reason, VM_STOP_NONE);
}
END_TEST

/* Counts what a test model's ops were called for. */
static unsigned realized, destroyed;

static bool count_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    dev->state = &realized;
    realized++;
    return true;
}

static void count_destroy(struct device *dev)
{
    destroyed++;
}

static const struct device_ops counted = {
    .name = "counted", .realize = count_realize, .destroy = count_destroy,
};

/* vm_destroy() destroys the machine's devices. */
START_TEST(vm_destroy_destroys_devices)
{
    static const struct device_desc two[] = {
        { &counted, 0, 0, -1, DEVICE_BOOT_ANY },
        { &counted, 0, 0, -1, DEVICE_BOOT_ANY },
    };
    struct vm *v = g_new0(struct vm, 1);
    struct device_ctx ctx = { .iobus = &v->iobus };

    v->name = g_strdup("counted");
    v->fd = -1;
    g_mutex_init(&v->lock);
    g_cond_init(&v->cond);
    iobus_init(&v->iobus);
    realized = destroyed = 0;
    ck_assert(devices_realize(&v->devices, two, 2, DEVICE_BOOT_FIRMWARE, &ctx, -1,
                              machine_kvm_irq, NULL));
    ck_assert_uint_eq(realized, 2);
    vm_destroy(v);
    ck_assert_uint_eq(destroyed, 2);
}
END_TEST

static size_t type(const char *s)
{
    return console->input(console->input_data, (const uint8_t *)s, strlen(s));
}

/* A firmware boot (no interrupt line) with every interrupt masked: a
 * guest that polls FR and DR reads what is typed, as kvm-unit-tests'
 * getchar does; with CR's RXE or UARTEN off, input waits on the host. */
START_TEST(rx_pl011_polled)
{
    char many[40];

    ck_assert_uint_eq(mmio_read(PL011 + 0x38), 0);        /* IMSC: all masked */
    ck_assert_uint_eq(mmio_read(PL011 + 0x30), 0x301);    /* CR: UARTEN, TXE, RXE */
    ck_assert_uint_eq(type("abc"), 3);
    ck_assert_uint_eq(mmio_read(PL011 + 0x18) & 0x10, 0); /* FR: RXFE clear */
    ck_assert_uint_eq(mmio_read(PL011), 'a');
    ck_assert_uint_eq(mmio_read(PL011), 'b');
    ck_assert_uint_eq(mmio_read(PL011), 'c');
    ck_assert_uint_eq(mmio_read(PL011 + 0x18) & 0x10, 0x10);
    mmio_write(PL011 + 0x30, 0x101);                     /* CR: receiver off */
    ck_assert_uint_eq(type("x"), 0);
    mmio_write(PL011 + 0x30, 0x300);                     /* UART off */
    ck_assert_uint_eq(type("x"), 0);
    mmio_write(PL011 + 0x30, 0x301);
    memset(many, 'm', sizeof(many));
    /* 32 deep: the rest waits (the console's input retries it). */
    ck_assert_uint_eq(console->input(console->input_data, (uint8_t *)many, sizeof(many)), 32);
    ck_assert_uint_eq(type("y"), 0);
    ck_assert_uint_eq(mmio_read(PL011), 'm');
    ck_assert_uint_eq(type("y"), 1);
}
END_TEST

/* Interrupt-driven: 32 bytes deep, the line high while a byte waits and
 * the receive interrupt is unmasked, in order out of DR. Linux reads the
 * rate back from IBRD/FBRD when UARTEN is set: 115200 from 24 MHz. */
START_TEST(rx_pl011)
{
    struct uart_rx *rx;
    char many[40];

    teardown();
    console = test_console();
    build(true);
    rx = rx_of(&pl011_device);
    ck_assert_uint_eq(24000000 * 4 / (64 * mmio_read(PL011 + 0x24) + mmio_read(PL011 + 0x28)) /
                      100, 1152);
    ck_assert_uint_eq(type("x"), 1);      /* masked: received, no interrupt */
    ck_assert_int_eq(rx->irq.level, 0);
    ck_assert_uint_eq(mmio_read(PL011), 'x');
    mmio_write(PL011 + 0x38, 0x10);
    ck_assert_int_eq(rx->irq.level, 0);
    ck_assert_uint_eq(type("hi"), 2);
    ck_assert_int_eq(rx->irq.level, 1);
    ck_assert_uint_eq(mmio_read(PL011 + 0x3c), 0x70); /* RIS: RX, TX, RT */
    ck_assert_uint_eq(mmio_read(PL011 + 0x40), 0x10); /* MIS: RX, the one unmasked */
    ck_assert_uint_eq(mmio_read(PL011), 'h');
    ck_assert_uint_eq(mmio_read(PL011), 'i');
    ck_assert_int_eq(rx->irq.level, 0);
    ck_assert_uint_eq(mmio_read(PL011), 0);           /* empty reads 0 */
    memset(many, 'm', sizeof(many));
    ck_assert_uint_eq(console->input(console->input_data, (uint8_t *)many, sizeof(many)), 32);
}
END_TEST

/* The 16550 always receives, 16 bytes deep: LSR.DR serves a polling guest
 * with every interrupt off; the line follows IIR and OUT2; FCR clears the
 * FIFO. */
START_TEST(rx_16550)
{
    struct uart_rx *rx;
    char many[40];

    teardown();
    console = test_console();
    build(true);
    rx = rx_of(&uart16550_device);
    /* The PL011 took the console's input last; give it back to the 16550. */
    console_set_input(console, uart_rx_receive, rx);
    ck_assert_uint_eq(type("p"), 1);      /* IER 0, OUT2 down: polled */
    ck_assert_int_eq(rx->irq.level, 0);
    ck_assert_uint_eq(in(COM1 + 5) & 0x01, 0x01);   /* LSR: data ready */
    ck_assert_uint_eq(in(COM1), 'p');
    ck_assert_uint_eq(in(COM1 + 5) & 0x01, 0);
    out(COM1 + 1, 0x01, 1);               /* IER: receive */
    ck_assert_uint_eq(type("x"), 1);
    ck_assert_int_eq(rx->irq.level, 0);   /* OUT2 down */
    ck_assert_uint_eq(in(COM1), 'x');
    out(COM1 + 4, 0x08, 1);               /* MCR: OUT2 */
    ck_assert_uint_eq(type("ok"), 2);
    ck_assert_int_eq(rx->irq.level, 1);
    ck_assert_uint_eq(in(COM1 + 2) & 0x0f, 0x04);   /* IIR: received data */
    ck_assert_uint_eq(in(COM1 + 5) & 0x01, 0x01);   /* LSR: data ready */
    ck_assert_uint_eq(in(COM1), 'o');
    ck_assert_uint_eq(in(COM1), 'k');
    ck_assert_int_eq(rx->irq.level, 0);
    memset(many, 'm', sizeof(many));
    ck_assert_uint_eq(console->input(console->input_data, (uint8_t *)many, sizeof(many)), 16);
    out(COM1 + 2, 0x02, 1);               /* FCR: clear the receive FIFO */
    ck_assert_uint_eq(in(COM1 + 5) & 0x01, 0);
}
END_TEST

#define RTC VMM_ARM_PL031_BASE

static uint32_t mmio_read_n(uint64_t addr, unsigned len)
{
    uint32_t v = 0;

    guest_access(IOBUS_MMIO, addr, &v, len, false);
    return v;
}

/* What kvm-unit-tests' x86 library reads (lib/x86/fwcfg.c): select an
 * item with a 16-bit write, read it a byte at a time. */
static uint64_t fw_cfg_read(uint16_t item, unsigned bytes)
{
    uint64_t v = 0;

    out(FW_CFG_PORT, item, 2);
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)in(FW_CFG_PORT + 1) << (i * 8);
    return v;
}

START_TEST(fw_cfg_items)
{
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_SIGNATURE, 4), 0x554d4551); /* "QEMU" */
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_ID, 4), 1);
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_NB_CPUS, 2), 3);
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_MAX_CPUS, 2), 3);
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_RAM_SIZE, 8), 0x123456789ULL);
    /* past an item's end, and an item vmm does not have: zeros */
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_NB_CPUS, 4), 3);
    ck_assert_uint_eq(fw_cfg_read(0x11, 8), 0);
    ck_assert_uint_eq(fw_cfg_read(0x19, 8), 0);
    /* selecting again starts the item over; a reset forgets the selection */
    out(FW_CFG_PORT, FW_CFG_RAM_SIZE, 2);
    ck_assert_uint_eq(in(FW_CFG_PORT + 1), 0x89);
    ck_assert_uint_eq(fw_cfg_read(FW_CFG_RAM_SIZE, 1), 0x89);
    ck_assert_uint_eq(in(FW_CFG_PORT + 1), 0x67);
    devices_reset(&vm.devices);
    ck_assert_uint_eq(in(FW_CFG_PORT + 1), 'Q');
}
END_TEST

/* What kvm-unit-tests' arm/pl031 checks: the PrimeCell IDs, read-only
 * registers at every width, a count from the host's wall clock. */
START_TEST(pl031_ids_and_read_only)
{
    static const uint8_t id[] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
    static const uint64_t ro[] = { 0x14, 0x18, 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc };
    uint32_t now = (uint32_t)(g_get_real_time() / G_USEC_PER_SEC), dr;

    for (unsigned i = 0; i < G_N_ELEMENTS(id); i++)
        ck_assert_uint_eq(mmio_read(RTC + 0xfe0 + 4 * i), id[i]);
    for (unsigned i = 0; i < G_N_ELEMENTS(ro); i++) {
        uint32_t before = mmio_read(RTC + ro[i]);

        for (unsigned len = 1; len <= 4; len *= 2) {
            uint32_t poison = 0xdeadbeef;

            guest_access(IOBUS_MMIO, RTC + ro[i], &poison, len, true);
        }
        ck_assert_uint_eq(mmio_read(RTC + ro[i]), before);
        ck_assert_uint_eq(mmio_read_n(RTC + ro[i], 1), before & 0xff);
        ck_assert_uint_eq(mmio_read_n(RTC + ro[i], 2), before & 0xffff);
    }
    dr = mmio_read(RTC);
    ck_assert_uint_ge(dr, now);
    ck_assert_uint_le(dr, now + 2);
    ck_assert_uint_eq(mmio_read(RTC + 0x0c), 1);   /* CR: started */
    mmio_write(RTC + 0x08, 1000);                  /* LR */
    ck_assert_uint_eq(mmio_read(RTC + 0x08), 1000);
    ck_assert_uint_le(mmio_read(RTC) - 1000, 1);
}
END_TEST

/* The match interrupt: RIS latches when the count reaches MR, the line
 * follows RIS & IMSC, ICR clears; a future match comes when it is due. */
START_TEST(pl031_match_interrupt)
{
    const struct device *d;
    struct irq_line *line;

    teardown();
    console = test_console();
    build(true);
    d = find(&pl031_device);
    line = d->state; /* the model's first member */
    mmio_write(RTC + 0x08, 500);                   /* LR: the count is 500 */
    mmio_write(RTC + 0x04, mmio_read(RTC));        /* MR: now */
    ck_assert_uint_eq(mmio_read(RTC + 0x14), 1);   /* RIS */
    ck_assert_uint_eq(mmio_read(RTC + 0x18), 0);   /* MIS: masked */
    ck_assert_int_eq(line->level, 0);
    mmio_write(RTC + 0x10, 1);                     /* IMSC */
    ck_assert_uint_eq(mmio_read(RTC + 0x18), 1);
    ck_assert_int_eq(line->level, 1);
    mmio_write(RTC + 0x1c, 1);                     /* ICR */
    ck_assert_uint_eq(mmio_read(RTC + 0x14), 0);
    ck_assert_int_eq(line->level, 0);

    mmio_write(RTC + 0x04, mmio_read(RTC) + 1);    /* a second from now */
    ck_assert_uint_eq(mmio_read(RTC + 0x14), 0);
    g_usleep(1100 * 1000);
    ck_assert_uint_eq(mmio_read(RTC + 0x14), 1);
    ck_assert_int_eq(line->level, 1);
    devices_reset(&vm.devices);
    ck_assert_uint_eq(mmio_read(RTC + 0x14), 0);
    ck_assert_uint_eq(mmio_read(RTC + 0x10), 0);
    ck_assert_int_eq(line->level, 0);
}
END_TEST

/* The shared FIFO on its own: a ring that wraps, never deeper than its
 * model says, and the line following the model's level. */
static bool always(struct uart_rx *rx) { return true; }
static bool has_data(struct uart_rx *rx) { return rx->count > 0; }

START_TEST(rx_ring_wraps)
{
    struct uart_rx rx = { 0 };
    struct device_ctx ctx = { .irq_wired = true };

    irq_line_init(&ctx.irq, 1000, 4);
    uart_rx_init(&rx, 4, &ctx, always, has_data);
    for (int round = 0; round < 3; round++) {
        ck_assert_uint_eq(uart_rx_receive(&rx, (const uint8_t *)"abcdef", 6), 4);
        ck_assert_int_eq(rx.irq.level, 1);
        g_mutex_lock(&rx.lock);
        ck_assert_uint_eq(uart_rx_pop(&rx), 'a');
        g_mutex_unlock(&rx.lock);
        ck_assert_uint_eq(uart_rx_receive(&rx, (const uint8_t *)"e", 1), 1);
        g_mutex_lock(&rx.lock);
        ck_assert_uint_eq(uart_rx_pop(&rx), 'b');
        ck_assert_uint_eq(uart_rx_pop(&rx), 'c');
        ck_assert_uint_eq(uart_rx_pop(&rx), 'd');
        ck_assert_uint_eq(uart_rx_pop(&rx), 'e');
        ck_assert_int_eq(rx.irq.level, 0);
        ck_assert_uint_eq(uart_rx_pop(&rx), 0);
        g_mutex_unlock(&rx.lock);
    }
    uart_rx_destroy(&rx);
}
END_TEST

/* pc-testdev as kvm-unit-tests' x86 tests use it: the data register at
 * every width and offset, the MMIO buffer, accesses past either end, the
 * IRQ ports (a write without a wired VM is ignored), and reset. */
START_TEST(pc_testdev_ports)
{
    static const struct device_desc line = {
        &pc_testdev_device, PC_TESTDEV_DATA_PORT, 4, -1, DEVICE_BOOT_LINUX | DEVICE_PC_TESTDEV,
    };
    struct device_ctx ctx = { .iobus = &vm.iobus, .console = console, .vm_fd = -1 };
    uint32_t v;
    const uint64_t mem = PC_TESTDEV_IOMEM_BASE;

    ck_assert(device_realize(&vm.devices, &line, &ctx, NULL));
    v = 0x11223344;
    guest_access(IOBUS_PIO, 0xe0, &v, 4, false);
    ck_assert_uint_eq(v, 0);
    out(0xe0, 0x11223344, 4);
    v = 0;
    guest_access(IOBUS_PIO, 0xe0, &v, 4, false);
    ck_assert_uint_eq(v, 0x11223344);
    out(0xe1, 0xaa, 1);                   /* one byte of the register */
    out(0xe2, 0xbbcc, 2);                 /* two, straddling nothing */
    v = 0;
    guest_access(IOBUS_PIO, 0xe0, &v, 4, false);
    ck_assert_uint_eq(v, 0xbbccaa44);
    ck_assert_uint_eq(in(0xe3), 0xbb);
    v = 0;
    guest_access(IOBUS_PIO, 0xe2, &v, 2, false);
    ck_assert_uint_eq(v, 0xbbcc);
    /* 4 bytes at 0xe2 run past the register: all ones, and no write */
    out(0xe2, 0x12345678, 4);
    v = 0;
    guest_access(IOBUS_PIO, 0xe2, &v, 4, false);
    ck_assert_uint_eq(v, 0xffffffff);
    ck_assert_uint_eq(in(0xe2), 0xcc);

    mmio_write(mem, 0xdeadbeef);
    mmio_write(mem + PC_TESTDEV_IOMEM_SIZE - 4, 0x01020304);
    ck_assert_uint_eq(mmio_read(mem), 0xdeadbeef);
    ck_assert_uint_eq(mmio_read_n(mem + 1, 2), 0xadbe);
    ck_assert_uint_eq(mmio_read(mem + PC_TESTDEV_IOMEM_SIZE - 4), 0x01020304);
    /* the last 2 bytes and 2 past the end: nobody's, all ones */
    ck_assert_uint_eq(mmio_read(mem + PC_TESTDEV_IOMEM_SIZE - 2), 0xffffffff);
    mmio_write(mem + PC_TESTDEV_IOMEM_SIZE - 2, 0);
    ck_assert_uint_eq(mmio_read(mem + PC_TESTDEV_IOMEM_SIZE - 4), 0x01020304);

    out(PC_TESTDEV_IRQ_PORT + 14, 1, 1);  /* not wired: ignored */
    out(PC_TESTDEV_IRQ_PORT + 23, 1, 1);
    ck_assert_uint_eq(in(PC_TESTDEV_IRQ_PORT), 0xff);

    devices_reset(&vm.devices);
    v = 1;
    guest_access(IOBUS_PIO, 0xe0, &v, 4, false);
    ck_assert_uint_eq(v, 0);
    ck_assert_uint_eq(mmio_read(mem), 0);
}
END_TEST

/* A fake KVM routing table for hyperv-testdev: the SynIC routes it holds. */
static unsigned hv_routes;
static struct kvm_irq_routing_entry hv_last;

static int hv_fake_set(int vm_fd, const struct kvm_irq_routing *t)
{
    (void)vm_fd;
    hv_routes = 0;
    for (unsigned i = 0; i < t->nr; i++) {
        ck_assert_uint_eq(t->entries[i].type, KVM_IRQ_ROUTING_HV_SINT);
        ck_assert_uint_lt(t->entries[i].u.hv_sint.sint, HYPERV_TESTDEV_SINTS);
        ck_assert_uint_lt(t->entries[i].u.hv_sint.vcpu, 2);
        hv_last = t->entries[i];
        hv_routes++;
    }
    return 0;
}

static void hv_ctl(uint32_t cmd, uint32_t vp, uint32_t sint)
{
    out(HYPERV_TESTDEV_PORT, (cmd << 16) | (vp << 8) | sint, 4);
}

/* hyperv-testdev as kvm-unit-tests' hyperv_synic drives it, and what a
 * hostile guest may write instead: SINTs and vCPUs out of range, a route
 * twice, unknown commands, other widths, more routes than it keeps; a
 * reset takes every route out of KVM's table. (Raising a SINT needs KVM:
 * here the ioctl fails on a file that is not a VM, said once, not fatal.) */
START_TEST(hyperv_testdev_routes)
{
    static const struct device_desc line = {
        &hyperv_testdev_device, HYPERV_TESTDEV_PORT, 4, -1,
        DEVICE_BOOT_LINUX | DEVICE_HYPERV_TESTDEV,
    };
    static const struct kvm_irq_routing_entry none[1];
    struct irq_routes routes;
    int fd = open("/dev/null", O_RDWR);
    struct device_ctx ctx = { .iobus = &vm.iobus, .console = console, .vm_fd = fd,
                              .nr_vcpus = 2, .routes = &routes };

    ck_assert_int_ge(fd, 0);
    irq_routes_kvm_set = hv_fake_set;
    irq_routes_init(&routes);
    ck_assert(irq_routes_start(&routes, fd, none, 0, 1024, NULL));
    hv_routes = 0;
    ck_assert(device_realize(&vm.devices, &line, &ctx, NULL));
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 1, 15);
    ck_assert_uint_eq(hv_routes, 1);
    ck_assert_uint_eq(hv_last.u.hv_sint.vcpu, 1);
    ck_assert_uint_eq(hv_last.u.hv_sint.sint, 15);
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 1, 15);   /* twice: one route, two users */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 1, 16);   /* no SINT 16 */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 2, 0);    /* no vCPU 2 */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 255, 255);
    hv_ctl(8, 0, 0);                                   /* no such command */
    hv_ctl(0xff, 0, 0);
    out(HYPERV_TESTDEV_PORT, (HYPERV_TESTDEV_SINT_ROUTE_CREATE << 16) | 3, 2); /* 2 bytes */
    out(HYPERV_TESTDEV_PORT + 1, 0x0101, 2);
    ck_assert_uint_eq(hv_routes, 1);
    ck_assert_uint_eq(in(HYPERV_TESTDEV_PORT), 0xff);
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_SET_SINT, 1, 15); /* raised (here: refused, said once) */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_SET_SINT, 0, 3);  /* no route: nothing */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_DESTROY, 0, 3);   /* no route: nothing */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_DESTROY, 1, 15);
    ck_assert_uint_eq(hv_routes, 1);                   /* its other user keeps it */
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_DESTROY, 1, 15);
    ck_assert_uint_eq(hv_routes, 0);
    /* every (vCPU, SINT) pair: 32 routes, all kept */
    for (uint32_t vp = 0; vp < 2; vp++)
        for (uint32_t s = 0; s < HYPERV_TESTDEV_SINTS; s++)
            hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, vp, s);
    ck_assert_uint_eq(hv_routes, 2 * HYPERV_TESTDEV_SINTS);
    devices_reset(&vm.devices);
    ck_assert_uint_eq(hv_routes, 0);
    hv_ctl(HYPERV_TESTDEV_SINT_ROUTE_CREATE, 0, 0);    /* usable again after a reset */
    ck_assert_uint_eq(hv_routes, 1);
    devices_destroy(&vm.devices);
    irq_routes_clear(&routes);
    close(fd);
}
END_TEST

/* hyperv-testdev's connections over a fake RAM: a posted message lands in
 * the target's SIMP slot, a second one waits (the slot's pending flag)
 * and goes in once the slot is free and the SynIC exits again; an event
 * sets its flag in the SIEFP slot; bad input gets Hyper-V's statuses,
 * never a write outside RAM. */
START_TEST(hyperv_testdev_connections)
{
    static const struct device_desc line = {
        &hyperv_testdev_device, HYPERV_TESTDEV_PORT, 4, -1,
        DEVICE_BOOT_LINUX | DEVICE_HYPERV_TESTDEV,
    };
    static const struct kvm_irq_routing_entry none[1];
    enum { RAM = 0x10000, SIMP = 0x1000, SIEFP = 0x2000, IN = 0x3000 };
    g_autofree uint8_t *ram = g_malloc0(RAM);
    struct guest_mem mem = { .nr = 1 };
    struct irq_routes routes;
    int fd = open("/dev/null", O_RDWR);
    struct device_ctx ctx = { .iobus = &vm.iobus, .console = console, .vm_fd = fd,
                              .nr_vcpus = 2, .routes = &routes, .mem = &mem };
    struct hyperv_testdev *t;
    uint8_t *slot = ram + SIMP + 8 * 256, *in_msg = ram + IN;
    uint32_t v32;
    uint64_t st, v64;

    mem.regions[0] = (struct mem_region){ .gpa = 0, .size = RAM, .hva = ram };
    mem.ram = &mem.regions[0];
    ck_assert_int_ge(fd, 0);
    irq_routes_kvm_set = hv_fake_set;
    irq_routes_init(&routes);
    ck_assert(irq_routes_start(&routes, fd, none, 0, 1024, NULL));
    ck_assert(device_realize(&vm.devices, &line, &ctx, NULL));
    t = devices_state_of(&vm.devices, &hyperv_testdev_device);
    ck_assert_ptr_nonnull(t);
    /* message connection 0x10 to vCPU 1's SINT 8, event connection 0x21 to its SINT 9 */
    out(HYPERV_TESTDEV_PORT, (0x10U << 24) | (HYPERV_TESTDEV_MSG_CONN_CREATE << 16) | (1 << 8) | 8, 4);
    out(HYPERV_TESTDEV_PORT, (0x21U << 24) | (HYPERV_TESTDEV_EVT_CONN_CREATE << 16) | (1 << 8) | 9, 4);
    ck_assert_uint_eq(hv_routes, 2);
    /* vCPU 1's SynIC: enabled, its pages at SIMP and SIEFP */
    hyperv_testdev_synic(t, 1, 0x40000083, 1, SIEFP | 1, SIMP | 1);
    /* HvPostMessage { connection 0x10, type 0x1234, 8 bytes } */
    v32 = 0x10;
    memcpy(in_msg, &v32, 4);
    v32 = 0x1234;
    memcpy(in_msg + 8, &v32, 4);
    v32 = 8;
    memcpy(in_msg + 12, &v32, 4);
    v64 = 0xabcdef;
    memcpy(in_msg + 16, &v64, 8);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN, &st));
    ck_assert_uint_eq(st, 0);
    memcpy(&v32, slot, 4);
    ck_assert_uint_eq(v32, 0x1234);
    ck_assert_uint_eq(slot[4], 8);
    ck_assert_uint_eq(slot[5], 0);
    memcpy(&v64, slot + 16, 8);
    ck_assert_uint_eq(v64, 0xabcdef);
    /* the slot is full: the next one waits, marked pending; a third finds no room */
    v64 = 0x777;
    memcpy(in_msg + 16, &v64, 8);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN, &st));
    ck_assert_uint_eq(st, 0);
    ck_assert_uint_eq(slot[5], 1);
    memcpy(&v64, slot + 16, 8);
    ck_assert_uint_eq(v64, 0xabcdef);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN, &st));
    ck_assert_uint_eq(st, 0x13);                        /* insufficient buffers */
    /* the guest frees the slot; the next SynIC exit lets the message in */
    memset(slot, 0, 8);
    hyperv_testdev_synic(t, 1, 0x40000080, 1, SIEFP | 1, SIMP | 1);
    memcpy(&v64, slot + 16, 8);
    ck_assert_uint_eq(v64, 0x777);
    ck_assert_uint_eq(slot[5], 0);
    /* bad posts: unknown connection, too big, type 0, input outside RAM or unaligned, fast */
    v32 = 0x11;
    memcpy(in_msg, &v32, 4);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN, &st));
    ck_assert_uint_eq(st, 0x12);
    v32 = 0x10;
    memcpy(in_msg, &v32, 4);
    v32 = 241;
    memcpy(in_msg + 12, &v32, 4);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN, &st));
    ck_assert_uint_eq(st, 5);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, RAM - 16, &st));
    ck_assert_uint_eq(st, 5);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, UINT64_MAX - 8, &st));
    ck_assert_uint_eq(st, 5);
    ck_assert(hyperv_testdev_hcall(t, 0x5c, IN + 1, &st));
    ck_assert_uint_eq(st, 5);
    ck_assert(hyperv_testdev_hcall(t, 0x5c | (1 << 16), IN, &st));
    ck_assert_uint_eq(st, 3);
    /* HvSignalEvent (fast): flag 0x21 of SIEFP slot 9, once */
    ck_assert(hyperv_testdev_hcall(t, 0x5d | (1 << 16), 0x21, &st));
    ck_assert_uint_eq(st, 0);
    memcpy(&v64, ram + SIEFP + 9 * 256, 8);
    ck_assert_uint_eq(v64, 1ULL << 0x21);
    ck_assert(hyperv_testdev_hcall(t, 0x5d | (1 << 16), 0x1234, &st));
    ck_assert_uint_eq(st, 0x12);                        /* no such connection */
    ck_assert(hyperv_testdev_hcall(t, 0x5d | (1 << 16), 0x21 | (1ULL << 32), &st));
    ck_assert_uint_eq(st, 5);                           /* its only flag is 0 */
    ck_assert(hyperv_testdev_hcall(t, 0x5d | (1 << 16), 0x21 | (1ULL << 60), &st));
    ck_assert_uint_eq(st, 3);                           /* reserved bits */
    ck_assert(!hyperv_testdev_hcall(t, 0x99, 0, &st));  /* not the device's */
    /* a vCPU the VM lacks is nobody's */
    hyperv_testdev_synic(t, 7, 0x40000083, 1, 1, 1);
    out(HYPERV_TESTDEV_PORT, (0x10U << 24) | (HYPERV_TESTDEV_MSG_CONN_DESTROY << 16), 4);
    out(HYPERV_TESTDEV_PORT, (0x21U << 24) | (HYPERV_TESTDEV_EVT_CONN_DESTROY << 16), 4);
    ck_assert_uint_eq(hv_routes, 0);
    devices_destroy(&vm.devices);
    irq_routes_clear(&routes);
    close(fd);
}
END_TEST

/* Two devices on one interrupt (PCI INTx pins are shared): it stays
 * asserted while either asserts it; one lowering its line does not take
 * the level from the other (KVM keeps one level for all of vmm). */
START_TEST(shared_interrupt)
{
    struct irq_wire w;
    struct irq_line a, b;

    irq_wire_init(&w, -1, 17);   /* no VM: the levels are what would be sent */
    irq_line_init_shared(&a, &w);
    irq_line_init_shared(&b, &w);
    irq_line_set(&a, false);
    ck_assert_int_eq(w.level, 0);
    irq_line_set(&a, true);
    ck_assert_int_eq(w.level, 1);
    irq_line_set(&b, true);
    irq_line_set(&a, false);
    ck_assert_int_eq(w.level, 1);
    irq_line_set(&a, false); /* again: no change */
    ck_assert_uint_eq(w.asserted, 1);
    irq_line_set(&b, false);
    ck_assert_int_eq(w.level, 0);
    ck_assert_uint_eq(w.asserted, 0);
    irq_wire_clear(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("devices");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, i8042_ignores_what_it_does_not_know);
    tcase_add_test(tc, shared_interrupt);
    tcase_add_test(tc, pc_testdev_ports);
    tcase_add_test(tc, hyperv_testdev_routes);
    tcase_add_test(tc, hyperv_testdev_connections);
    tcase_add_test(tc, i8042_output_port_reset);
    tcase_add_test(tc, acpi_sleep_only_s5);
    tcase_add_test(tc, cmos_rtc_date);
    tcase_add_test(tc, cmos_rtc_alarm);
    tcase_add_test(tc, acpi_pm1_registers);
    tcase_add_test(tc, acpi_pm1_s3_sleep_ends_with_the_vm);
    tcase_add_test(tc, wide_accesses);
    tcase_add_test(tc, exit_status_above_119);
    tcase_add_test(tc, exit_status_whole);
    tcase_add_test(tc, debug_exit_shape);
    tcase_add_test(tc, exit_mmio_registers);
    tcase_add_test(tc, realize_claims_the_table);
    tcase_add_test(tc, realize_only_for_its_boot);
    tcase_add_test(tc, realize_failure_names_the_clash);
    tcase_add_test(tc, reset_to_power_on);
    tcase_add_test(tc, vm_destroy_destroys_devices);
    tcase_add_test(tc, rx_pl011_polled);
    tcase_add_test(tc, rx_pl011);
    tcase_add_test(tc, rx_16550);
    tcase_add_test(tc, rx_ring_wraps);
    tcase_add_test(tc, pl031_ids_and_read_only);
    tcase_add_test(tc, fw_cfg_items);
    tcase_add_test(tc, pl031_match_interrupt);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
