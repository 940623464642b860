// fuzz-sources: src/devices/uart16550.c src/devices/pl011.c src/devices/pl031.c src/devices/i8042.c src/devices/acpi_sleep.c src/devices/exit_device.c
// fuzz-sources: src/devices/uart_rx.c src/devices/dt.c src/devices/aml.c src/devices/pci.c src/devices/pci_host.c
// fuzz-sources: src/core/device.c src/core/iobus.c src/core/irq.c src/core/console_input.c src/base/seccomp.c
// fuzz-sources: fuzz/fake_console.c src/core/console_observer.c fuzz/fake_vm.c fuzz/fake_kvm.c
// fuzz-includes: include src/arch/x86_64 fuzz
// fuzz-pkgs: glib-2.0 libseccomp
// fuzz-libs: -lfdt
// fuzz-options: -max_len=4096
/*
 * libFuzzer target: every device's register file through the I/O registry
 * (src/core/iobus.c), as a guest reaches it. Two fake VMs realized from
 * machine tables (src/core/device.c): a PC one (16550 UART, i8042, ACPI
 * sleep register, the port I/O exit device) and an arm one (PL011, PL031
 * RTC, the MMIO exit device), each with its own (fake) console; whether the UARTs
 * are wired to an interrupt (a Linux boot) is the input's choice. Then a sequence of accesses (address, width as KVM
 * gives them, direction, value), and of bytes typed on the console.
 *
 * Checked after each step, beyond ASan/UBSan (every access gets a buffer
 * of exactly its width): the UARTs never stop the VM; the other devices
 * stop it only their documented way (reset, power-off, the guest's exit
 * status as written, a crash report); an address nobody claims reads as
 * all ones; an interrupt line is high only when the device says an
 * enabled interrupt is pending (PL011 and PL031: exactly then; 16550:
 * only with OUT2 up); the RTC never stops the VM; one access transmits at most one byte, and only a UART's
 * write; the console's input takes no more than it is given, nothing while
 * the receiver is off (PL011 CR), and into an empty FIFO as much as fits
 * while it is on (interrupts masked or not: a guest may poll).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/console.h"
#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/exit_device.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/pl011.h"
#include "vmm/hw/pl031.h"
#include "vmm/hw/uart16550.h"
#include "vmm/vm.h"
#include "vmm-guest/platform.h"

#include "fake.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 256
#define UART_GSI 4
#define PL011_IRQ ((1U << 24) | 33) /* KVM_ARM_IRQ_TYPE_SPI, SPI 1 */
#define PL031_IRQ ((1U << 24) | 34) /* SPI 2 */
#define PL031_MIS 0x18
#define UART_MCR 4
#define MCR_OUT2 0x08
#define PL011_MIS 0x40
#define PL011_FR 0x18
#define PL011_CR 0x30
#define UART_LSR 5

struct machine {
    struct vm vm;
    struct vcpu vcpu;
    iobus_kind kind;
    bool irq;
};

static struct console *consoles[2];

/* The machines' tables, as src/arch/<arch>/machine.c has them. */
static const struct pci_host_params pc_pci = {
    .window_base = VMM_X86_PCI_WINDOW_BASE, .window_size = VMM_X86_PCI_WINDOW_SIZE, .conf1 = true,
};
static const struct pci_host_params arm_pci = {
    .window_base = VMM_ARM_PCI_WINDOW_BASE, .window_size = VMM_ARM_PCI_WINDOW_SIZE,
};
static const struct device_desc pc_devices[] = {
    { &uart16550_device,   VMM_X86_COM1_PORT,       8,      UART_GSI, DEVICE_BOOT_ANY },
    { &i8042_device,       I8042_DATA_PORT,         5,      -1,       DEVICE_BOOT_ANY },
    { &acpi_sleep_device,  ACPI_SLEEP_CONTROL_PORT, 2,      -1,       DEVICE_BOOT_ANY },
    { &debug_exit_device,  VMM_X86_DEBUG_EXIT_PORT, 4,      -1,       DEVICE_BOOT_ANY },
    { &exit_status_device, VMM_X86_EXIT_PORT,       4,      -1,       DEVICE_BOOT_ANY },
    { &pci_host_device,    VMM_X86_PCI_ECAM_BASE, VMM_PCI_ECAM_SIZE, -1, DEVICE_BOOT_ANY, &pc_pci },
};
static const struct device_desc arm_devices[] = {
    { &pl011_device,     VMM_ARM_PL011_BASE, VMM_ARM_PL011_SIZE, 1,  DEVICE_BOOT_ANY },
    { &pl031_device,     VMM_ARM_PL031_BASE, VMM_ARM_PL031_SIZE, 2,  DEVICE_BOOT_ANY },
    { &exit_mmio_device, VMM_ARM_EXIT_BASE,  VMM_ARM_EXIT_SIZE,  -1, DEVICE_BOOT_ANY },
    { &pci_host_device,  VMM_ARM_PCI_ECAM_BASE, VMM_PCI_ECAM_SIZE, -1, DEVICE_BOOT_ANY, &arm_pci },
};

static uint32_t pc_irq(int irq)
{
    return irq;
}

static uint32_t arm_irq(int irq)
{
    return PL011_IRQ - 1 + irq; /* KVM_ARM_IRQ_TYPE_SPI, 32 + SPI */
}

/* A Linux boot wires the interrupts (fake_kvm answers on any fd). */
static bool build(struct machine *m, const char *name, struct console *c, iobus_kind kind,
                  const struct device_desc *table, size_t n, uint32_t (*kvm_irq)(int),
                  bool irq)
{
    struct device_ctx ctx = { .iobus = &m->vm.iobus, .console = c };

    fake_vm_init(&m->vm, name);
    m->vm.console = c;
    m->kind = kind;
    m->irq = irq;
    return devices_realize(&m->vm.devices, table, n, DEVICE_BOOT_LINUX, &ctx,
                           irq ? 0 : -1, kvm_irq, NULL);
}

static void teardown(struct machine *m)
{
    devices_destroy(&m->vm.devices);
    fake_vm_clear(&m->vm);
}

static uint32_t le(const uint8_t *d, unsigned len)
{
    uint32_t v = 0;

    memcpy(&v, d, len < 4 ? len : 4);
    return v;
}

/* What a write to @r may do to the VM: the stop it causes, if any, must
 * be this device's kind, with the status the guest wrote. */
static void check_stop(const struct machine *m, const struct io_range *r, uint64_t offset,
                       const uint8_t *d, unsigned len, bool is_write)
{
    const struct vm_stop *s = &m->vm.stop;
    const char *name = r ? r->name : "";

    if (!r || !is_write || !strcmp(name, "uart16550") || !strcmp(name, "pl011") ||
        !strcmp(name, "pl031") || !strncmp(name, "pci-", 4)) {
        FUZZ_CHECK(s->reason == VM_STOP_NONE);
        return;
    }
    if (s->reason == VM_STOP_NONE)
        return;
    if (!strcmp(name, "i8042"))
        FUZZ_CHECK(s->reason == VM_STOP_RESET && s->status == 0);
    else if (!strcmp(name, "acpi-sleep"))
        FUZZ_CHECK(s->reason == VM_STOP_POWEROFF && s->status == 0 && offset == 0);
    else if (!strcmp(name, "debug-exit"))
        FUZZ_CHECK(s->reason == VM_STOP_GUEST_EXIT && s->status == (((le(d, len) << 1) | 1) & 0xff));
    else if (!strcmp(name, "exit-status"))
        FUZZ_CHECK(s->reason == VM_STOP_GUEST_EXIT && s->status == (le(d, len) & 0xff));
    else if (!strcmp(name, "exit-device") && offset == VMM_EXIT_REG_CRASH)
        FUZZ_CHECK(s->reason == VM_STOP_CRASH && s->message);
    else if (!strcmp(name, "exit-device") && offset == VMM_EXIT_REG_DEBUG_EXIT)
        FUZZ_CHECK(s->reason == VM_STOP_GUEST_EXIT && s->status == (((le(d, len) << 1) | 1) & 0xff));
    else if (!strcmp(name, "exit-device") && offset == VMM_EXIT_REG_STATUS)
        FUZZ_CHECK(s->reason == VM_STOP_GUEST_EXIT && s->status == (le(d, len) & 0xff));
    else
        FUZZ_CHECK(!"a device stopped the VM it had no reason to stop");
}

static void guest_access(struct machine *m, struct fuzz_input *in, uint8_t op)
{
    static const unsigned pio_widths[] = { 1, 2, 4 }, mmio_widths[] = { 1, 2, 4, 8 };
    GArray *ranges = m->vm.iobus.ranges[m->kind];
    uint8_t sel = fuzz_u8(in);
    bool is_write = op & 0x08;
    unsigned len = m->kind == IOBUS_PIO ? pio_widths[fuzz_u8(in) % 3]
                                        : mmio_widths[fuzz_u8(in) % 4];
    const struct io_range *r;
    uint64_t addr;
    uint8_t *d = g_malloc(len);
    bool was_stopped = m->vm.stop.reason != VM_STOP_NONE;
    uint64_t printed = fake_console.bytes;

    if (sel % (ranges->len + 1) < ranges->len) {
        const struct io_range *t = &g_array_index(ranges, struct io_range, sel % (ranges->len + 1));

        /* A register of it, or just past its end. */
        addr = t->base + fuzz_u16(in) % (t->len + 8);
    } else {
        addr = m->kind == IOBUS_PIO ? fuzz_u16(in) : fuzz_u64(in);
    }
    fuzz_bytes(in, d, len);
    r = iobus_find(&m->vm.iobus, m->kind, addr);

    iobus_access(&m->vm.iobus, m->kind, &m->vcpu, addr, d, len, is_write);

    if (!r && !is_write)
        for (unsigned i = 0; i < len; i++)
            FUZZ_CHECK(d[i] == 0xff);
    /* One access transmits at most one byte, and only a UART's write. */
    FUZZ_CHECK(fake_console.bytes - printed <= (is_write && r &&
               (!strcmp(r->name, "uart16550") || !strcmp(r->name, "pl011"))));
    if (!was_stopped)
        check_stop(m, r, r ? addr - r->base : 0, d, len, is_write);
    g_free(d);
}

/* A side-effect-free register read, for the interrupt checks. */
static uint32_t peek(struct machine *m, uint64_t addr)
{
    uint32_t v = 0;

    iobus_access(&m->vm.iobus, m->kind, &m->vcpu, addr, (uint8_t *)&v,
                 m->kind == IOBUS_PIO ? 1 : 4, false);
    return v;
}

static void check_irq(struct machine *m)
{
    int level;

    if (!m->irq)
        return;
    if (m->kind == IOBUS_PIO) {
        level = fake_kvm.irq_level[UART_GSI % FAKE_IRQS];
        if (level == 1)
            FUZZ_CHECK(peek(m, VMM_X86_COM1_PORT + UART_MCR) & MCR_OUT2);
    } else {
        level = fake_kvm.irq_level[PL011_IRQ % FAKE_IRQS];
        if (level >= 0)
            FUZZ_CHECK(level == (peek(m, VMM_ARM_PL011_BASE + PL011_MIS) != 0));
        /* MIS is read at the time the line was last set for: the RTC
         * latches a due match at every access, the read included. */
        peek(m, VMM_ARM_PL031_BASE + PL031_MIS);
        level = fake_kvm.irq_level[PL031_IRQ % FAKE_IRQS];
        if (level >= 0)
            FUZZ_CHECK(level == (peek(m, VMM_ARM_PL031_BASE + PL031_MIS) != 0));
    }
}

static void type(struct machine *m, struct fuzz_input *in)
{
    struct console *c = m->vm.console;
    uint8_t buf[64];
    size_t n = fuzz_u8(in) % sizeof(buf) + 1, took;
    bool pio = m->kind == IOBUS_PIO;
    /* A 16550 always receives; a PL011 while CR has UARTEN and RXE. */
    bool on = pio || (peek(m, VMM_ARM_PL011_BASE + PL011_CR) & 0x201) == 0x201;
    bool empty = pio ? !(peek(m, VMM_X86_COM1_PORT + UART_LSR) & 0x01)
                     : (peek(m, VMM_ARM_PL011_BASE + PL011_FR) & 0x10);

    fuzz_bytes(in, buf, n);
    FUZZ_CHECK(c->input);
    took = c->input(c->input_data, buf, n);
    FUZZ_CHECK(took <= n);
    if (!on)
        FUZZ_CHECK(took == 0);
    else if (empty)
        FUZZ_CHECK(took == MIN(n, pio ? 16u : 32u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    struct machine m[2];
    uint8_t wiring = fuzz_u8(&in);

    for (int i = 0; i < 2; i++)
        if (!consoles[i])
            consoles[i] = fake_console_new();
    fake_vm_reset();
    fake_kvm_reset();
    memset(m, 0, sizeof(m));
    FUZZ_CHECK(build(&m[0], "pc", consoles[0], IOBUS_PIO, pc_devices,
                     G_N_ELEMENTS(pc_devices), pc_irq, wiring & 1));
    FUZZ_CHECK(build(&m[1], "arm", consoles[1], IOBUS_MMIO, arm_devices,
                     G_N_ELEMENTS(arm_devices), arm_irq, wiring & 2));
    for (int i = 0; i < 2; i++)
        m[i].vcpu.vm = &m[i].vm;

    for (int n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
        uint8_t op = fuzz_u8(&in);
        struct machine *t = &m[op & 1];

        if ((op & 6) == 6)
            type(t, &in);
        else
            guest_access(t, &in, op);
        check_irq(t);
    }

    for (int i = 0; i < 2; i++)
        teardown(&m[i]);
    return 0;
}
