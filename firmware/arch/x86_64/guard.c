/*
 * x86_64 guarded accesses (fw.h): an IDT shared by every vCPU whose 32
 * exception gates lead to guard.S, which resumes a faulting fw_try_*
 * access at its recovery label. vmm's GDT (code at 0x08) is kept.
 */
#include "fw-internal.h"
#include <vmm-guest/platform.h>

#define GUARD_MAX_CPUS  64
#define NR_VECTORS      32
#define SEL_KERNEL_CS   0x08
#define GATE_INTERRUPT  0x8e    /* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t fw_x86_guard_stubs[NR_VECTORS];
extern uint64_t fw_x86_guard_count[GUARD_MAX_CPUS], fw_x86_guard_vector[GUARD_MAX_CPUS];
int fw_x86_try_read(uint64_t addr, unsigned width, uint64_t *val);
int fw_x86_try_write(uint64_t addr, unsigned width, uint64_t val);
int fw_x86_try_in(uint16_t port, unsigned width, uint32_t *val);
int fw_x86_try_out(uint16_t port, unsigned width, uint32_t val);
int fw_x86_try_rep(bool out, uint16_t port, unsigned width, void *buf, uint32_t count);
int fw_x86_try_vmcall(const uint64_t regs[8], int64_t out[4]);
int fw_x86_try_vmmcall(const uint64_t regs[8], int64_t out[4]);
noreturn void fw_x86_guard_unexpected(uint64_t vector, uint64_t error_code, uint64_t rip);

static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));
static uint32_t idt_ready;
static int amd = -1;

static bool cpu_is_amd(void)
{
	uint32_t a = 0, b, c, d;

	if (amd < 0) {
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
		amd = b == 0x68747541;          /* "Auth"enticAMD */
	}
	return amd;
}

bool fw_guard_init(void)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	unsigned i;

	if (fw_cpu_id() >= GUARD_MAX_CPUS)
		return false;
	/* Every vCPU writes the same gates: the race is harmless, and the
	 * flag only saves the later ones the work. */
	if (!__atomic_load_n(&idt_ready, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < NR_VECTORS; i++) {
			uint64_t h = fw_x86_guard_stubs[i];

			idt[i] = (struct idt_gate){
				.off_lo = (uint16_t)h, .sel = SEL_KERNEL_CS,
				.type = GATE_INTERRUPT, .off_mid = (uint16_t)(h >> 16),
				.off_hi = (uint32_t)(h >> 32),
			};
		}
		__atomic_store_n(&idt_ready, 1, __ATOMIC_RELEASE);
	}
	cpu_is_amd();
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
	return true;
}

noreturn void fw_x86_guard_unexpected(uint64_t vector, uint64_t error_code, uint64_t rip)
{
	fw_panic("exception %lu (error code %#lx) at rip %#lx outside a guarded access",
		 (unsigned long)vector, (unsigned long)error_code, (unsigned long)rip);
}

bool fw_try_read(uint64_t addr, unsigned width, uint64_t *val)
{
	return fw_x86_try_read(addr, width, val);
}

bool fw_try_write(uint64_t addr, unsigned width, uint64_t val)
{
	return fw_x86_try_write(addr, width, val);
}

bool fw_try_call(unsigned kind, const uint64_t regs[8], int64_t out[4])
{
	(void)kind;
	return cpu_is_amd() ? fw_x86_try_vmmcall(regs, out) : fw_x86_try_vmcall(regs, out);
}

int fw_try_port_in(uint16_t port, unsigned width, uint32_t *val)
{
	return fw_x86_try_in(port, width, val);
}

int fw_try_port_out(uint16_t port, unsigned width, uint32_t val)
{
	return fw_x86_try_out(port, width, val);
}

int fw_try_port_rep(bool out, uint16_t port, unsigned width, void *buf, uint32_t count)
{
	return fw_x86_try_rep(out, port, width, buf, count);
}

uint64_t fw_guard_faults(void)
{
	return fw_x86_guard_count[fw_cpu_id() % GUARD_MAX_CPUS];
}

unsigned fw_guard_last_fault(void)
{
	return (unsigned)fw_x86_guard_vector[fw_cpu_id() % GUARD_MAX_CPUS];
}

/* vmm identity-maps whole GiBs from 0 through PML4[0]'s PDPT: count the
 * present entries from the start. */
uint64_t fw_guard_map_io_space(void)
{
	uint64_t cr3, *pml4, *pdpt;
	unsigned g;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & 0xffffffffff000ULL);
	if (!(pml4[0] & 1))
		return 0;
	pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0xffffffffff000ULL);
	for (g = 0; g < 512 && (pdpt[g] & 1); g++)
		;
	return (uint64_t)g << 30;
}

void fw_console_reset(void)
{
	/* 8 data bits, no parity, 1 stop bit, DLAB off; no loopback; DTR and
	 * RTS up; no interrupts; FIFOs on and cleared. */
	fw_x86_try_out(VMM_X86_COM1_PORT + 3, 1, 0x03);
	fw_x86_try_out(VMM_X86_COM1_PORT + 4, 1, 0x03);
	fw_x86_try_out(VMM_X86_COM1_PORT + 1, 1, 0x00);
	fw_x86_try_out(VMM_X86_COM1_PORT + 2, 1, 0x07);
}
