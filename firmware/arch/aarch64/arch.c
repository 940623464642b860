/*
 * aarch64 side of the runtime: device tree discovery, the identity map,
 * PSCI, the PL011 and vmm's exit device.
 *
 * vCPU 0 runs fw_arm_boot() with the MMU off, so everything it calls must
 * avoid unaligned accesses (the firmware is built with -mstrict-align) and
 * atomics (exclusives on Device memory are not guaranteed to work).
 */
#include "fw-internal.h"
#include "arch.h"
#include <vmm-guest/platform.h>

#define PL011_DR        0x00
#define PL011_FR        0x18
#define PL011_FR_TXFF   (1U << 5)
#define PL011_FR_RXFE   (1U << 4)
/* A UART that never drains must not hang the guest: write anyway. */
#define UART_POLL_LIMIT 100000

#define MPIDR_AFF_MASK  0xff00ffffffULL     /* Aff3..Aff0, as the DT reg */

/* Stage 1 descriptor bits (4 KiB granule). */
#define PTE_VALID       (1ULL << 0)
#define PTE_TABLE       (1ULL << 1)         /* else a block */
#define PTE_ATTR(i)     ((uint64_t)(i) << 2)
#define PTE_AP_RO       (1ULL << 7)
#define PTE_SH_INNER    (3ULL << 8)
#define PTE_AF          (1ULL << 10)
#define PTE_PXN         (1ULL << 53)
#define PTE_UXN         (1ULL << 54)

#define PTE_DEVICE      (PTE_VALID | PTE_ATTR(FW_ARM_ATTR_DEVICE) | PTE_AF | \
			 PTE_PXN | PTE_UXN)
#define PTE_RAM         (PTE_VALID | PTE_ATTR(FW_ARM_ATTR_NORMAL) | \
			 PTE_SH_INNER | PTE_AF | PTE_UXN)

#define L1_BLOCK        (1ULL << 30)
#define L2_BLOCK        (1ULL << 21)
#define PT_ENTRIES      512

/* fw_fatal_fault() jumps here: no device and no RAM. */
#define FAULT_ADDR      0x10000000ULL

/* Level 1 covers the 39-bit address space in 1 GiB blocks. The first GiB
 * (devices) and the last, partial GiB of RAM go through a level 2 table. */
uint64_t fw_arm_pgd[PT_ENTRIES] __attribute__((aligned(4096)));
static uint64_t pmd_low[PT_ENTRIES] __attribute__((aligned(4096)));
static uint64_t pmd_tail[PT_ENTRIES] __attribute__((aligned(4096)));

static const void *dtb;
static unsigned nr_cpus;
static uint64_t cpu_mpidr[FW_ARM_MAX_CPUS];   /* index = vCPU number */
static uint64_t ram_size;

extern char __image_start[], _end[];
extern char fw_arm_secondary_entry[];

/* Called from entry.S. */
void fw_arm_boot(const void *fdt);
noreturn void fw_arm_boot_cpu_main(void);
noreturn void fw_arm_secondary_main(unsigned cpu);

/* MMIO through inline asm so the compiler cannot pick a writeback or pair
 * addressing mode, which KVM cannot emulate (no valid syndrome). */
static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static int64_t psci(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	/* SMCCC 1.0 lets the callee clobber x4-x17. */
	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return (int64_t)x0;
}

static const char *psci_error(int64_t r)
{
	static const char *const names[] = {
		"SUCCESS", "NOT_SUPPORTED", "INVALID_PARAMETERS", "DENIED",
		"ALREADY_ON", "ON_PENDING", "INTERNAL_FAILURE", "NOT_PRESENT",
		"DISABLED", "INVALID_ADDRESS",
	};

	if (r <= 0 && -r < (int64_t)(sizeof(names) / sizeof(names[0])))
		return names[-r];
	return "unknown";
}

/* ---- device tree ---- */

enum node_kind { NODE_OTHER, NODE_CPUS, NODE_MEMORY, NODE_CPU };

struct dt_scan {
	unsigned root_addr_cells, root_size_cells, cpus_addr_cells;
	enum node_kind depth1, depth2;
	bool cpu_has_reg, cpu_disabled;
	uint64_t cpu_reg;
	unsigned ncpus;                         /* all usable cpu nodes */
	uint64_t mpidr[FW_ARM_MAX_CPUS];        /* the first ones, DT order */
	bool have_ram;
	uint64_t ram_lo, ram_hi, ram_total;
};

/* "cpu" matches "cpu" and "cpu@1", not "cpu-map". */
static bool node_is(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '@');
}

static void dt_begin_node(void *ctx, unsigned depth, const char *name)
{
	struct dt_scan *s = ctx;

	if (depth == 1) {
		s->depth1 = node_is(name, "cpus") ? NODE_CPUS :
			    node_is(name, "memory") ? NODE_MEMORY : NODE_OTHER;
	} else if (depth == 2) {
		s->depth2 = s->depth1 == NODE_CPUS && node_is(name, "cpu") ?
			    NODE_CPU : NODE_OTHER;
		s->cpu_has_reg = false;
		s->cpu_disabled = false;
	}
}

static void dt_end_node(void *ctx, unsigned depth)
{
	struct dt_scan *s = ctx;

	/* A cpu node's status may follow its reg, so decide at its end. */
	if (depth == 2 && s->depth2 == NODE_CPU && s->cpu_has_reg &&
	    !s->cpu_disabled) {
		if (s->ncpus < FW_ARM_MAX_CPUS)
			s->mpidr[s->ncpus] = s->cpu_reg;
		s->ncpus++;
	}
	if (depth == 2)
		s->depth2 = NODE_OTHER;
	else if (depth == 1)
		s->depth1 = NODE_OTHER;
}

static void dt_memory_reg(struct dt_scan *s, const uint8_t *v, uint32_t len)
{
	unsigned ac = s->root_addr_cells, sc = s->root_size_cells;
	uint32_t entry = 4 * (ac + sc);

	if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return;
	for (; len >= entry; len -= entry, v += entry) {
		uint64_t base = fw_fdt_cells(v, ac);
		uint64_t size = fw_fdt_cells(v + 4 * ac, sc);

		if (!size)
			continue;
		if (!s->have_ram || base < s->ram_lo)
			s->ram_lo = base;
		if (!s->have_ram || base + size > s->ram_hi)
			s->ram_hi = base + size;
		s->ram_total += size;
		s->have_ram = true;
	}
}

static void dt_prop(void *ctx, unsigned depth, const char *name,
		    const void *value, uint32_t len)
{
	struct dt_scan *s = ctx;

	if (depth == 0 && len == 4) {
		if (!strcmp(name, "#address-cells"))
			s->root_addr_cells = fw_be32(value);
		else if (!strcmp(name, "#size-cells"))
			s->root_size_cells = fw_be32(value);
	} else if (depth == 1 && s->depth1 == NODE_CPUS) {
		if (!strcmp(name, "#address-cells") && len == 4)
			s->cpus_addr_cells = fw_be32(value);
	} else if (depth == 1 && s->depth1 == NODE_MEMORY) {
		if (!strcmp(name, "reg"))
			dt_memory_reg(s, value, len);
	} else if (depth == 2 && s->depth2 == NODE_CPU) {
		if (!strcmp(name, "reg") && s->cpus_addr_cells >= 1 &&
		    s->cpus_addr_cells <= 2 && len >= 4 * s->cpus_addr_cells) {
			s->cpu_reg = fw_fdt_cells(value, s->cpus_addr_cells);
			s->cpu_has_reg = true;
		} else if (!strcmp(name, "status")) {
			s->cpu_disabled = strncmp(value, "okay", len) &&
					  strncmp(value, "ok", len);
		}
	}
}

/* ---- identity map ---- */

static void map_ram(uint64_t lo, uint64_t hi)
{
	bool tail_used = false;
	uint64_t g;

	for (g = lo / L1_BLOCK; g <= (hi - 1) / L1_BLOCK; g++) {
		uint64_t glo = g * L1_BLOCK, ghi = glo + L1_BLOCK, a;

		if (g == 0 || g >= PT_ENTRIES)
			continue;       /* devices' GiB / beyond 39 bits */
		if ((lo <= glo && hi >= ghi) || tail_used) {
			fw_arm_pgd[g] = glo | PTE_RAM;
			continue;
		}
		/* A partial GiB: map only the 2 MiB blocks that hold RAM, so
		 * that nothing speculates into addresses that are not there. */
		tail_used = true;
		fw_arm_pgd[g] = (uintptr_t)pmd_tail | PTE_VALID | PTE_TABLE;
		for (a = (lo > glo ? lo : glo) & ~(L2_BLOCK - 1);
		     a < (hi < ghi ? hi : ghi); a += L2_BLOCK)
			pmd_tail[(a - glo) / L2_BLOCK] = a | PTE_RAM;
	}
}

static void build_page_tables(uint64_t ram_lo, uint64_t ram_hi)
{
	unsigned i;

	/*
	 * The first GiB holds the devices (Device-nGnRnE, never executable)
	 * and, at 0, the vectors vmm provides for exceptions the guest does
	 * not handle (VBAR_EL1 = 0): those must stay executable or a fault
	 * would fault again forever instead of reaching vmm's report.
	 */
	fw_arm_pgd[0] = (uintptr_t)pmd_low | PTE_VALID | PTE_TABLE;
	pmd_low[0] = VMM_ARM_VECTORS_BASE | PTE_VALID |
		     PTE_ATTR(FW_ARM_ATTR_NORMAL) | PTE_SH_INNER | PTE_AF |
		     PTE_AP_RO | PTE_UXN;
	for (i = 1; i < PT_ENTRIES; i++)
		pmd_low[i] = (uint64_t)i * L2_BLOCK | PTE_DEVICE;

	map_ram(ram_lo, ram_hi);
}

/*
 * Everything so far was written with the MMU off, straight to memory.
 * Remove any cache line over the image (tables, .bss, this stack) so the
 * cacheable view after the MMU goes on cannot return stale data.
 */
static void clean_invalidate(uintptr_t start, uintptr_t end)
{
	uint64_t ctr, line;
	uintptr_t p;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ULL << ((ctr >> 16) & 0xf);        /* DminLine, in words */
	for (p = start & ~(line - 1); p < end; p += line)
		__asm__ volatile("dc civac, %0" : : "r"(p) : "memory");
	__asm__ volatile("dsb sy" : : : "memory");
}

void fw_arm_boot(const void *fdt)
{
	struct dt_scan s = {
		/* Defaults from the devicetree specification. */
		.root_addr_cells = 2, .root_size_cells = 1, .cpus_addr_cells = 2,
	};
	static const struct fw_fdt_visitor visitor = {
		.begin_node = dt_begin_node,
		.end_node = dt_end_node,
		.prop = dt_prop,
	};
	uint64_t self, ram_hi;
	unsigned i, n, stored;

	dtb = fdt;
	if (!fw_fdt_size(fdt))
		fw_panic("no device tree at %p (x0 at entry)", fdt);
	if (fw_fdt_walk(fdt, &visitor, &s) < 0)
		fw_panic("malformed device tree at %p", fdt);
	if (!s.ncpus)
		fw_panic("no /cpus/cpu node with a reg in the device tree");
	if (!s.have_ram)
		fw_panic("no /memory in the device tree");
	if ((uintptr_t)__image_start < s.ram_lo || (uintptr_t)_end > s.ram_hi)
		fw_panic("firmware at 0x%lx-0x%lx is outside RAM 0x%lx-0x%lx",
			 (uintptr_t)__image_start, (uintptr_t)_end,
			 s.ram_lo, s.ram_hi);

	/* vCPU 0 is whoever runs this; the others keep device tree order. */
	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(self));
	self &= MPIDR_AFF_MASK;
	stored = s.ncpus < FW_ARM_MAX_CPUS ? s.ncpus : FW_ARM_MAX_CPUS;
	for (i = 0; i < stored && s.mpidr[i] != self; i++)
		;
	if (i == stored && s.ncpus <= FW_ARM_MAX_CPUS)
		fw_panic("this vCPU's MPIDR 0x%lx is not in the device tree", self);
	cpu_mpidr[0] = self;
	n = 1;
	for (i = 0; i < stored && n < FW_ARM_MAX_CPUS; i++)
		if (s.mpidr[i] != self)
			cpu_mpidr[n++] = s.mpidr[i];
	if (s.ncpus > FW_ARM_MAX_CPUS)
		fw_printf("fw: %u CPUs in the device tree; this firmware runs "
			  "the first %u, the rest stay off\n",
			  s.ncpus, FW_ARM_MAX_CPUS);
	nr_cpus = n;
	ram_size = s.ram_total;

	ram_hi = s.ram_hi;
	if (ram_hi > (uint64_t)PT_ENTRIES * L1_BLOCK) {
		fw_printf("fw: RAM above 512 GiB is not mapped\n");
		ram_hi = (uint64_t)PT_ENTRIES * L1_BLOCK;
	}
	build_page_tables(s.ram_lo, ram_hi);
	clean_invalidate((uintptr_t)__image_start, (uintptr_t)_end);
}

noreturn void fw_arm_boot_cpu_main(void)
{
	unsigned i;

	fw_runtime_atomics_ready();
	/* What the secondaries read once their MMU is on (fw_nr_cpus(), the
	 * console state) must be visible before they start. */
	__asm__ volatile("dsb ish" : : : "memory");
	for (i = 1; i < nr_cpus; i++) {
		int64_t r = psci(PSCI_0_2_FN_CPU_ON_64, cpu_mpidr[i],
				 (uintptr_t)fw_arm_secondary_entry, i);

		if (r != 0)
			fw_panic("PSCI CPU_ON of vCPU %u (MPIDR 0x%lx) failed: "
				 "%ld (%s)", i, cpu_mpidr[i], (long)r,
				 psci_error(r));
	}
	fw_runtime_run(0);
}

noreturn void fw_arm_secondary_main(unsigned cpu)
{
	fw_runtime_run(cpu);
}

/* ---- the runtime API ---- */

void fw_arch_putc(char c)
{
	unsigned i;

	for (i = 0; i < UART_POLL_LIMIT; i++)
		if (!(mmio_read32(VMM_ARM_PL011_BASE + PL011_FR) & PL011_FR_TXFF))
			break;
	mmio_write32(VMM_ARM_PL011_BASE + PL011_DR, (uint8_t)c);
}

int fw_arch_getc(void)
{
	if (mmio_read32(VMM_ARM_PL011_BASE + PL011_FR) & PL011_FR_RXFE)
		return -1;
	return (uint8_t)mmio_read32(VMM_ARM_PL011_BASE + PL011_DR);
}

noreturn void fw_halt(void)
{
	for (;;)
		__asm__ volatile("msr daifset, #0xf; wfi" : : : "memory");
}

noreturn void fw_arch_park(void)
{
	/* Off rather than spinning: the vCPU thread then sleeps in KVM. */
	psci(PSCI_0_2_FN_CPU_OFF, 0, 0, 0);
	fw_halt();
}

void fw_cpu_relax(void)
{
	__asm__ volatile("yield" : : : "memory");
}

unsigned fw_cpu_id(void)
{
	uint64_t id;

	__asm__ volatile("mrs %0, tpidr_el1" : "=r"(id));
	return (unsigned)id;
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
	return "aarch64";
}

const void *fw_dtb(void)
{
	return dtb;
}

noreturn void fw_exit(unsigned status)
{
	mmio_write32(VMM_ARM_EXIT_BASE + VMM_EXIT_REG_STATUS, status);
	fw_halt();
}

noreturn void fw_debug_exit(unsigned v)
{
	mmio_write32(VMM_ARM_EXIT_BASE + VMM_EXIT_REG_DEBUG_EXIT, v);
	fw_halt();
}

noreturn void fw_poweroff(void)
{
	int64_t r = psci(PSCI_0_2_FN_SYSTEM_OFF, 0, 0, 0);

	fw_panic("PSCI SYSTEM_OFF returned %ld (%s)", (long)r, psci_error(r));
}

noreturn void fw_reset(void)
{
	int64_t r = psci(PSCI_0_2_FN_SYSTEM_RESET, 0, 0, 0);

	fw_printf("fw: PSCI SYSTEM_RESET returned %ld (%s)\n", (long)r,
		  psci_error(r));
	fw_exit(FW_EXIT_RESET_FAILED);
}

void fw_undefined_instruction(void)
{
	__asm__ volatile("udf #0" : : : "memory");
}

noreturn void fw_fatal_fault(void)
{
	fw_printf("branching to 0x%lx, where there is nothing to execute "
		  "(instruction abort)\n", (unsigned long)FAULT_ADDR);
	__asm__ volatile("blr %0" : : "r"(FAULT_ADDR) : "x30", "memory");
	fw_panic("the branch to 0x%lx came back", (unsigned long)FAULT_ADDR);
}
