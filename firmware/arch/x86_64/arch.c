/*
 * x86_64 side of the runtime: port I/O to the 16550 and vmm's exit ports.
 */
#include "fw-internal.h"
#include <vmm-guest/platform.h>

#define UART_THR        0       /* transmit holding register */
#define UART_LSR        5       /* line status register */
#define UART_LSR_THRE   0x20    /* THR empty: may write */
#define UART_LSR_DR     0x01    /* data ready: RBR holds a byte */
#define UART_RBR        0       /* receive buffer register */

#define I8042_COMMAND   0x64
#define I8042_PULSE_RESET 0xfe

/* A UART that never reports THRE must not hang the guest: after this
 * many polls write anyway. */
#define UART_POLL_LIMIT 100000

static unsigned nr_cpus;
static uint64_t ram_size;

/* Called on vCPU 0 by entry.S, before the other vCPUs are released. */
void fw_x86_boot(uint64_t ncpus, uint64_t ram);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

void fw_x86_boot(uint64_t ncpus, uint64_t ram)
{
	nr_cpus = (unsigned)ncpus;
	ram_size = ram;
	/* Plain memory with lock-prefixed instructions: atomics work from
	 * the first instruction. */
	fw_runtime_atomics_ready();
}

void fw_arch_putc(char c)
{
	unsigned i;

	for (i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(VMM_X86_COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	outb(VMM_X86_COM1_PORT + UART_THR, (uint8_t)c);
}

int fw_arch_getc(void)
{
	if (!(inb(VMM_X86_COM1_PORT + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(VMM_X86_COM1_PORT + UART_RBR);
}

noreturn void fw_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

noreturn void fw_arch_park(void)
{
	fw_halt();
}

void fw_cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

unsigned fw_cpu_id(void)
{
	unsigned id;

	/* entry.S put the index at GS:0. */
	__asm__ volatile("movl %%gs:0, %0" : "=r"(id));
	return id;
}

unsigned fw_nr_cpus(void)
{
	return nr_cpus;
}

uint64_t fw_ram_size(void)
{
	return ram_size;
}

const char *fw_arch_name(void)
{
	return "x86_64";
}

const void *fw_dtb(void)
{
	return NULL;
}

noreturn void fw_exit(unsigned status)
{
	/* 32-bit write so vmm sees the whole value, even one out of range. */
	outl(VMM_X86_EXIT_PORT, status);
	fw_halt();
}

noreturn void fw_debug_exit(unsigned v)
{
	outl(VMM_X86_DEBUG_EXIT_PORT, v);
	fw_halt();
}

noreturn void fw_poweroff(void)
{
	fw_exit(0);
}

noreturn void fw_reset(void)
{
	outb(I8042_COMMAND, I8042_PULSE_RESET);
	fw_printf("fw: reset through port 0x64 had no effect\n");
	fw_exit(FW_EXIT_RESET_FAILED);
}

void fw_undefined_instruction(void)
{
	__asm__ volatile("ud2" : : : "memory");
}

noreturn void fw_fatal_fault(void)
{
	/* Every vector is beyond a zero limit, so int3 raises #GP, which
	 * raises #DF, which shuts the vCPU down: a triple fault. */
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };

	fw_printf("loading an IDT with limit 0 and executing int3 (triple fault)\n");
	__asm__ volatile("lidt %0; int3" : : "m"(empty_idt) : "memory");
	fw_panic("int3 with an empty IDT did not end the VM");
}
