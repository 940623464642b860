/*
 * aarch64 guarded accesses (fw.h): this vCPU's VBAR_EL1 points at
 * guard.S's vectors, which resume a faulting fw_try_* access at its
 * recovery label and pass every other exception on to vmm's vectors.
 */
#include "fw-internal.h"
#include "arch.h"
#include <vmm-guest/platform.h>

#define GUARD_MAX_CPUS  64
#define L1_BLOCK        (1ULL << 30)
#define PT_ENTRIES      512
/* A Device-nGnRnE, never executable 1 GiB block (as arch.c maps devices). */
#define PTE_DEVICE_BLOCK ((1ULL << 0) | ((uint64_t)FW_ARM_ATTR_DEVICE << 2) | \
			  (1ULL << 10) | (1ULL << 53) | (1ULL << 54))

extern char fw_arm_guard_vectors[];
extern uint64_t fw_arm_guard_count[GUARD_MAX_CPUS], fw_arm_guard_ec[GUARD_MAX_CPUS];
extern uint64_t fw_arm_pgd[PT_ENTRIES];
int fw_arm_try_read(uint64_t addr, unsigned width, uint64_t *val);
int fw_arm_try_write(uint64_t addr, unsigned width, uint64_t val);
int fw_arm_try_call(unsigned kind, const uint64_t regs[8], int64_t out[4]);

bool fw_guard_init(void)
{
	if (fw_cpu_id() >= GUARD_MAX_CPUS)
		return false;
	__asm__ volatile("msr vbar_el1, %0; isb" : : "r"(fw_arm_guard_vectors) : "memory");
	return true;
}

bool fw_try_read(uint64_t addr, unsigned width, uint64_t *val)
{
	return fw_arm_try_read(addr, width, val);
}

bool fw_try_write(uint64_t addr, unsigned width, uint64_t val)
{
	return fw_arm_try_write(addr, width, val);
}

bool fw_try_call(unsigned kind, const uint64_t regs[8], int64_t out[4])
{
	return fw_arm_try_call(kind & 3, regs, out);
}

int fw_try_port_in(uint16_t port, unsigned width, uint32_t *val)
{
	(void)port, (void)width, (void)val;
	return -1;
}

int fw_try_port_out(uint16_t port, unsigned width, uint32_t val)
{
	(void)port, (void)width, (void)val;
	return -1;
}

int fw_try_port_rep(bool out, uint16_t port, unsigned width, void *buf, uint32_t count)
{
	(void)out, (void)port, (void)width, (void)buf, (void)count;
	return -1;
}

uint64_t fw_guard_faults(void)
{
	return fw_arm_guard_count[fw_cpu_id() % GUARD_MAX_CPUS];
}

unsigned fw_guard_last_fault(void)
{
	return (unsigned)fw_arm_guard_ec[fw_cpu_id() % GUARD_MAX_CPUS];
}

/* Every 1 GiB of the 39-bit space that arch.c left unmapped (all but the
 * device GiB and RAM) becomes a Device block: accesses there reach KVM
 * and vmm instead of faulting in the guest. Invalid entries become valid
 * ones, which needs no TLB invalidation, only the barriers. */
uint64_t fw_guard_map_io_space(void)
{
	unsigned g;

	for (g = 1; g < PT_ENTRIES; g++)
		if (!fw_arm_pgd[g])
			fw_arm_pgd[g] = (uint64_t)g * L1_BLOCK | PTE_DEVICE_BLOCK;
	__asm__ volatile("dsb ishst; isb" : : : "memory");
	return (uint64_t)PT_ENTRIES * L1_BLOCK;
}

void fw_console_reset(void)
{
	/* 8 data bits with FIFOs (LCR_H), then UART, transmit and receive
	 * enabled (CR), as after a PL011 driver's set-up. */
	fw_arm_try_write(VMM_ARM_PL011_BASE + 0x2c, 4, 0x70);
	fw_arm_try_write(VMM_ARM_PL011_BASE + 0x30, 4, 0x301);
}
