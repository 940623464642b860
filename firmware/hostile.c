/*
 * hostile: every vCPU pokes vmm at random for a fixed number of rounds,
 * then the VM ends with HOSTILE_STATUS through the exit device. A round is
 * one of: a call over hvc/smc/vmcall with a random function ID (every
 * SMCCC owner range, vmm's own range, fully random) and random argument
 * registers; a ucall with random structure contents; a doorbell ring with
 * a random value and width (other vCPUs' structures, misaligned, outside
 * RAM); a random scribble over another vCPU's ucall structure; an MMIO
 * load or store of random width to a random address outside RAM (device
 * windows, holes, past what is mapped); x86_64 port I/O of random width to
 * a random port, single or rep ins/outs with a random count; a VM
 * management call with a random image index or VM id.
 *
 * Faults the accesses cause in the guest (an access past the page tables,
 * a misaligned Device access, #UD at a vmcall vmm refuses) are caught by
 * the guard (fw_guard_init()) and counted; the round goes on.
 *
 * Reproducible: vCPU n's generator is seeded with HOSTILE_SEED, the first
 * 8 bytes of the VM's name (from WHOAMI, when the policy allows it) and n.
 * Each vCPU prints its seed. Its choices never depend on vmm's answers,
 * except the VM ids it reuses, which are the values of VM_CREATE results.
 *
 * What it never does, so that it does not end itself in a boring way
 * (everything else is fair game):
 *  - PSCI CPU_SUSPEND, CPU_OFF, CPU_ON, SYSTEM_OFF, SYSTEM_RESET,
 *    SYSTEM_RESET2, SYSTEM_OFF2 (owner 4, functions 1-3, 8, 9, 0x12,
 *    0x15, SMC32 or SMC64, fast or yielding): such an ID gets bit 16 set,
 *    which no service defines;
 *  - the ucall commands sync, done and abort, by any conduit (the same
 *    treatment); sync logs a line per call on vmm's stderr;
 *  - writes to the exit device (x86_64 ports 0xf4-0xfb; aarch64 its whole
 *    page at 0x090f0000), to the i8042 (ports 0x60, 0x64: reset line and
 *    output port), to the ACPI sleep control and status ports (0x600,
 *    0x601), and to the reset control port 0xcf9; reads of them are done;
 *  - console storms: console-write calls ask for at most 32 bytes (or
 *    more than the 4096 vmm allows, which is refused), ucall print carries
 *    at most 48 bytes, rep outs to the UART's ports at most 16 units;
 *  - stores to its own RAM (an MMIO store never targets RAM).
 *
 * Built as hostile-wait (HOSTILE_WAIT_INPUT), vCPU 0 then waits for a line
 * on its console before the VM ends: how long the storm takes is then the
 * guest's business, and how long the VM stays up afterwards the test's
 * (the final counts can be read from vmm while it still runs).
 */
#include "fw.h"
#include <vmm-guest/calls.h>
#include <vmm-guest/platform.h>

#define HOSTILE_ROUNDS   2000        /* per vCPU: 2-20 s in the nested test bed */
#define HOSTILE_STATUS   42
#define HOSTILE_SEED     0x686f7374696c6521ULL   /* "hostile!" */
#define MAX_CPUS         64
#define REP_BUF          1024
#define PRINT_MAX        48
#define CONSOLE_MAX      32
#ifndef HOSTILE_WAIT_INPUT
#define HOSTILE_WAIT_INPUT 0
#endif

struct rng {
	uint64_t s;
};

/* splitmix64: every seed gives a full-period sequence. */
static uint64_t next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

/* A value that is often small, sometimes an edge, else anything. */
static uint64_t any_value(struct rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x1000, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL,
	};

	switch (below(r, 4)) {
	case 0:
		return below(r, 16);
	case 1:
		return edges[below(r, sizeof(edges) / sizeof(edges[0]))];
	default:
		return next(r);
	}
}

/* Every call vmm has (call-list.h), and the edges of its range. */
#define HOSTILE_ID(c, ...) VMM_CALL_##c,
static const uint32_t vmm_ids[] = {
	VMM_CALL_LIST(HOSTILE_ID)
	VMM_CALL_LAST, VMM_CALL_LAST + 1, VMM_CALL_BASE - 1,
};
#undef HOSTILE_ID
#define NR_VMM_IDS (sizeof(vmm_ids) / sizeof(vmm_ids[0]))

static bool excluded(uint32_t id)
{
	unsigned owner = (id >> 24) & 0x3f, fn = id & 0xffff;

	if (owner == 4 && !(id & 0x00ff0000))
		switch (fn) {
		case 1: case 2: case 3: case 8: case 9: case 0x12: case 0x15:
			return true;
		}
	return id == VMM_CALL_UCALL_SYNC || id == VMM_CALL_UCALL_DONE ||
	       id == VMM_CALL_UCALL_ABORT;
}

/* A function ID from every SMCCC owner range, vmm's table and beyond. */
static uint32_t random_id(struct rng *r)
{
	uint32_t id, owner = below(r, 64), fast = below(r, 8) ? 0x80000000U : 0,
		 smc64 = below(r, 2) ? 0x40000000U : 0;

	switch (below(r, 8)) {
	case 0:
		id = (uint32_t)next(r);
		break;
	case 1:
	case 2:
		id = vmm_ids[below(r, NR_VMM_IDS)];
		break;
	case 3:
		id = VMM_CALL_BASE + below(r, 0x100);
		break;
	case 4: /* standard secure services: PSCI, TRNG, ... */
		id = fast | smc64 | 0x04000000U | below(r, 0x60);
		break;
	case 5: /* arm architecture calls, standard hypervisor (pv-time) */
		id = fast | smc64 | (below(r, 2) ? 0x05000000U : 0);
		id |= below(r, 2) ? below(r, 0x40) : 0x7f00U + below(r, 0x100);
		if (below(r, 4) == 0)
			id = 0x80008000U;       /* ARCH_WORKAROUND_1 */
		break;
	case 6: /* vendor hypervisor: KVM's functions and the generic queries */
		id = fast | smc64 | 0x06000000U |
		     (below(r, 2) ? below(r, 0x20) : 0xff00U + below(r, 0x100));
		break;
	default: /* any owner, a low or a query function, maybe bits 23:16 */
		id = fast | smc64 | owner << 24 |
		     (below(r, 2) ? below(r, 0x40) : 0xff00U + below(r, 0x100));
		if (below(r, 8) == 0)
			id |= (uint32_t)below(r, 0x100) << 16;
		break;
	}
	if (excluded(id))
		id |= 0x00010000U;
	return id;
}

struct counts {
	uint64_t calls, calls_refused, calls_faulted;
	uint64_t ucalls, ucalls_refused, doorbells, scribbles;
	uint64_t mmio, mmio_faulted, pio, pio_faulted, vm_calls, vm_created;
};

struct cpu_state {
	unsigned cpu, ncpus;
	struct rng rng;
	struct counts n;
	uint64_t vm_ids[4];     /* VMs this vCPU created (values of results) */
	uint8_t *buf;
};

/* What vCPU 0 found before releasing the others. */
static struct {
	bool x86;
	uint64_t ram_lo, ram_hi, io_end, name8, ucall_area;
} machine;
/* vCPU 0 has set up; vCPUs that printed their seed; vCPUs done with
 * their rounds; vCPU 0 has put the console back. */
static uint32_t go, started, finished, quiet;
static uint8_t rep_bufs[MAX_CPUS][REP_BUF] __attribute__((aligned(64)));
static const char console_msg[] = "hostile: console-write from a hostile guest\n";

/* ---- calls ---- */

static void fill_args(struct cpu_state *s, uint32_t id, uint64_t regs[8])
{
	unsigned i;

	regs[0] = id;
	if (below(&s->rng, 8) == 0)     /* junk above W0 / EAX */
		regs[0] |= next(&s->rng) << 32;
	for (i = 1; i < 8; i++)
		regs[i] = any_value(&s->rng);
	switch (id) {
	case VMM_CALL_CONSOLE_WRITE:
		switch (below(&s->rng, 3)) {
		case 0:
			regs[1] = (uintptr_t)console_msg;
			break;
		case 1:
			regs[1] = machine.ram_lo + next(&s->rng) % (machine.ram_hi - machine.ram_lo);
			break;
		}
		/* At most CONSOLE_MAX bytes, or a length vmm refuses. */
		if (regs[2] <= 4096)
			regs[2] %= CONSOLE_MAX + 1;
		break;
	case VMM_CALL_VM_CREATE:
		if (below(&s->rng, 4))
			regs[1] = below(&s->rng, 4);    /* images 0, 1 exist */
		break;
	case VMM_CALL_VM_START: case VMM_CALL_VM_STOP: case VMM_CALL_VM_DESTROY:
	case VMM_CALL_VM_QUERY:
		if (below(&s->rng, 2))
			regs[1] = s->vm_ids[below(&s->rng, 4)];
		else if (below(&s->rng, 2))
			regs[1] = below(&s->rng, 24);
		break;
	case VMM_CALL_FEATURES:
		if (below(&s->rng, 2))
			regs[1] = random_id(&s->rng);
		break;
	}
}

static void remember_vm(struct cpu_state *s, uint32_t id, const int64_t out[4])
{
	if (id == VMM_CALL_VM_CREATE && out[0] > 0) {
		s->vm_ids[s->n.vm_created % 4] = (uint64_t)out[0];
		s->n.vm_created++;
	}
}

static void do_call(struct cpu_state *s, uint32_t id)
{
	uint64_t regs[8];
	int64_t out[4] = { 0, 0, 0, 0 };
	unsigned kind = below(&s->rng, 16);

	/* Mostly hvc #0 / smc #0; sometimes a non-zero immediate. */
	kind = kind < 7 ? FW_CALL_HVC : kind < 14 ? FW_CALL_SMC :
	       kind == 14 ? FW_CALL_HVC_IMM : FW_CALL_SMC_IMM;
	fill_args(s, id, regs);
	s->n.calls++;
	if (fw_try_call(kind, regs, out)) {
		s->n.calls_faulted++;
		return;
	}
	if (out[0] < 0)
		s->n.calls_refused++;
	remember_vm(s, id, out);
}

/* ---- ucall ---- */

static volatile struct vmm_ucall *ucall_of(unsigned cpu)
{
	return (volatile struct vmm_ucall *)(uintptr_t)(machine.ucall_area +
							(uint64_t)cpu * VMM_UCALL_STRIDE);
}

static void fill_text(struct cpu_state *s, volatile struct vmm_ucall *u, unsigned n)
{
	unsigned i;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		u->text[i] = (char)next(&s->rng);
}

static void random_contents(struct cpu_state *s, volatile struct vmm_ucall *u, uint32_t cmd)
{
	uint32_t text_len, file_len;

	u->cmd = cmd;
	u->arg = any_value(&s->rng);
	u->line = (uint32_t)next(&s->rng);
	if (below(&s->rng, 4)) {
		text_len = below(&s->rng, VMM_UCALL_TEXT_MAX + 1);
		file_len = below(&s->rng, text_len + 1);
	} else {
		text_len = (uint32_t)any_value(&s->rng);
		file_len = (uint32_t)any_value(&s->rng);
	}
	/* ucall print: a bounded line, not 4 KiB of noise per call. */
	if (cmd == VMM_CALL_UCALL_PRINT && text_len <= VMM_UCALL_TEXT_MAX &&
	    file_len <= text_len && text_len - file_len > PRINT_MAX)
		text_len = file_len + PRINT_MAX;
	u->text_len = text_len;
	u->file_len = file_len;
	fill_text(s, u, text_len < VMM_UCALL_TEXT_MAX ? text_len : VMM_UCALL_TEXT_MAX);
	if (cmd == VMM_CALL_VM_CREATE && below(&s->rng, 2))
		u->arg = below(&s->rng, 4);
	else if (cmd >= VMM_CALL_VM_START && cmd <= VMM_CALL_VM_QUERY && below(&s->rng, 2))
		u->arg = s->vm_ids[below(&s->rng, 4)];
}

static void do_ucall(struct cpu_state *s)
{
	volatile struct vmm_ucall *u = ucall_of(s->cpu);
	uint64_t self = machine.ucall_area + (uint64_t)s->cpu * VMM_UCALL_STRIDE;
	uint32_t cmd;
	int64_t out[4];
	bool bad_self = below(&s->rng, 10) == 0;

	switch (below(&s->rng, 3)) {
	case 0:
		cmd = VMM_CALL_UCALL_PRINT;
		break;
	default:
		cmd = random_id(&s->rng);
		break;
	}
	random_contents(s, u, cmd);
	u->self = bad_self ? self ^ (next(&s->rng) | 1) : self;
	u->ret[0] = VMM_RET_NOT_SUPPORTED;
	s->n.ucalls++;
	fw_ucall_ring_raw(self);
	out[0] = u->ret[0];
	if (out[0] < 0)
		s->n.ucalls_refused++;
	out[1] = out[2] = out[3] = 0;
	remember_vm(s, cmd, out);
	u->self = self;
}

/* Another vCPU's structure (or our own) gets random contents, never a
 * command this guest excludes: its owner may ring it before rewriting. */
static void do_scribble(struct cpu_state *s)
{
	volatile struct vmm_ucall *u = ucall_of(below(&s->rng, s->ncpus));

	s->n.scribbles++;
	random_contents(s, u, random_id(&s->rng));
	if (below(&s->rng, 4) == 0)
		u->self = any_value(&s->rng);
	if (below(&s->rng, 4) == 0)
		u->ret[below(&s->rng, 4)] = (int64_t)next(&s->rng);
}

static uint64_t random_doorbell_value(struct cpu_state *s)
{
	uint64_t own = machine.ucall_area + (uint64_t)s->cpu * VMM_UCALL_STRIDE;

	switch (below(&s->rng, 6)) {
	case 0: /* every structure, and the pages either side of the area */
		return machine.ucall_area +
		       ((int64_t)below(&s->rng, s->ncpus + 4) - 2) * VMM_UCALL_STRIDE;
	case 1: /* inside a structure */
		return own + 1 + below(&s->rng, VMM_UCALL_STRIDE - 1);
	case 2: /* RAM */
		return machine.ram_lo + (next(&s->rng) % (machine.ram_hi - machine.ram_lo));
	case 3:
		return own;
	default:
		return any_value(&s->rng);
	}
}

static void do_doorbell(struct cpu_state *s)
{
	uint64_t v = random_doorbell_value(s), offset = 0;
	unsigned width = 1u << below(&s->rng, 4);
	uint16_t port;

	s->n.doorbells++;
	if (machine.x86) {
		/* The port carries a page number; widths 1, 2, 4, at 0xe8-0xeb. */
		if (width == 8)
			width = 4;
		if (below(&s->rng, 2) == 0)
			v >>= 12;
		port = VMM_X86_UCALL_PORT;
		if (below(&s->rng, 4) == 0)
			port += below(&s->rng, 4);
		fw_try_port_out(port, width, (uint32_t)v);
		return;
	}
	/* aarch64: mostly the 64-bit doorbell at offset 0; sometimes another
	 * width or offset (a misaligned Device access faults in the guest). */
	if (below(&s->rng, 2))
		width = 8;
	if (below(&s->rng, 4) == 0)
		offset = below(&s->rng, VMM_ARM_UCALL_SIZE);
	if (fw_try_write(VMM_ARM_UCALL_DOORBELL + offset, width, v))
		s->n.mmio_faulted++;
}

/* ---- MMIO ---- */

struct window {
	uint64_t base, size;
};

static const struct window arm_windows[] = {
	{ VMM_ARM_GICD_BASE, VMM_ARM_GICD_SIZE },
	{ VMM_ARM_GICR_BASE, 0x20000 * 4 },
	{ VMM_ARM_PL011_BASE, VMM_ARM_PL011_SIZE },
	{ VMM_ARM_UCALL_DOORBELL, VMM_ARM_UCALL_SIZE },
	{ VMM_ARM_EXIT_BASE, VMM_ARM_EXIT_SIZE },
	{ VMM_ARM_VECTORS_BASE, 0x200000 },
	{ 0x200000, VMM_ARM_RAM_BASE - 0x200000 },      /* the whole device GiB */
};

static const struct window x86_windows[] = {
	{ 0xfec00000, 0x1000 },         /* where an IOAPIC would be */
	{ 0xfed00000, 0x1000 },         /* HPET */
	{ 0xfee00000, 0x1000 },         /* local APIC */
	{ 0xfffbc000, 0x4000 },         /* KVM's identity map and TSS pages */
	{ 0xe0000000, 0x10000000 },     /* PCI MMCONFIG */
};

static bool mmio_write_forbidden(uint64_t addr, unsigned width)
{
	if (addr + width > machine.ram_lo && addr < machine.ram_hi)
		return true;            /* our own RAM */
	return !machine.x86 && addr + width > VMM_ARM_EXIT_BASE &&
	       addr < VMM_ARM_EXIT_BASE + VMM_ARM_EXIT_SIZE;
}

static uint64_t random_mmio_address(struct cpu_state *s)
{
	const struct window *w = machine.x86 ? x86_windows : arm_windows;
	unsigned nw = machine.x86 ? sizeof(x86_windows) / sizeof(x86_windows[0]) :
				   sizeof(arm_windows) / sizeof(arm_windows[0]);
	uint64_t lo, hi;

	switch (below(&s->rng, 6)) {
	case 0:
	case 1:
		w += below(&s->rng, nw);
		return w->base + next(&s->rng) % w->size;
	case 2: /* the mapped space outside RAM */
		lo = machine.ram_hi;
		hi = machine.io_end;
		if (machine.x86 || below(&s->rng, 2) == 0 || hi <= lo) {
			/* below RAM (aarch64) or above it (x86_64) */
			lo = machine.x86 ? machine.ram_hi : 0;
			hi = machine.x86 ? machine.io_end : machine.ram_lo;
		}
		return hi > lo ? lo + next(&s->rng) % (hi - lo) : lo;
	case 3: /* past the mapped space: faults in the guest */
		return machine.io_end + (next(&s->rng) % (1ULL << 40));
	case 4: /* right after RAM */
		return machine.ram_hi + below(&s->rng, 0x10000);
	default:
		return next(&s->rng);
	}
}

static void do_mmio(struct cpu_state *s)
{
	uint64_t addr = random_mmio_address(s), v;
	unsigned width = 1u << below(&s->rng, 4);

	/* Mostly aligned: a misaligned Device access only ever faults. */
	if (below(&s->rng, 8))
		addr &= ~(uint64_t)(width - 1);
	s->n.mmio++;
	if (below(&s->rng, 2) && !mmio_write_forbidden(addr, width)) {
		if (fw_try_write(addr, width, any_value(&s->rng)))
			s->n.mmio_faulted++;
	} else if (!(addr + width > machine.ram_lo && addr < machine.ram_hi)) {
		if (fw_try_read(addr, width, &v))
			s->n.mmio_faulted++;
	}
}

/* ---- x86_64 port I/O ---- */

static const uint16_t known_ports[] = {
	0x3f8, 0xe8, 0xf4, 0xf8, 0x60, 0x64, 0x600, 0x20, 0xa0, 0x40, 0x61, 0x70,
	0x80, 0x92, 0xcf8, 0xcfc, 0xcf9, 0x402, 0x510, 0x2f8,
};

static bool overlaps(unsigned port, unsigned width, unsigned lo, unsigned hi)
{
	return port + width > lo && port < hi;
}

static bool port_write_forbidden(unsigned port, unsigned width)
{
	return overlaps(port, width, VMM_X86_DEBUG_EXIT_PORT, VMM_X86_EXIT_PORT + 4) ||
	       overlaps(port, width, 0x60, 0x61) || overlaps(port, width, 0x64, 0x65) ||
	       overlaps(port, width, 0x600, 0x602) || overlaps(port, width, 0xcf9, 0xcfa);
}

static void do_pio(struct cpu_state *s)
{
	unsigned port, width = 1u << below(&s->rng, 3), count, i;
	bool out = below(&s->rng, 2);
	int r;

	if (below(&s->rng, 2))
		port = (known_ports[below(&s->rng, sizeof(known_ports) / sizeof(known_ports[0]))] +
			below(&s->rng, 8)) & 0xffff;
	else
		port = below(&s->rng, 0x10000);
	s->n.pio++;
	if (out && port_write_forbidden(port, width))
		out = false;
	if (below(&s->rng, 4) == 0) {
		count = below(&s->rng, 4) ? 1 + below(&s->rng, 16) :
					    1 + below(&s->rng, REP_BUF / width);
		if (out && overlaps(port, width, VMM_X86_COM1_PORT, VMM_X86_COM1_PORT + 8) &&
		    count > 16)
			count = 16;
		if (out)
			for (i = 0; i < count * width && i < REP_BUF; i++)
				s->buf[i] = (uint8_t)next(&s->rng);
		r = fw_try_port_rep(out, (uint16_t)port, width, s->buf, count);
	} else if (out) {
		r = fw_try_port_out((uint16_t)port, width, (uint32_t)any_value(&s->rng));
	} else {
		uint32_t v;

		r = fw_try_port_in((uint16_t)port, width, &v);
	}
	if (r > 0)
		s->n.pio_faulted++;
}

/* ---- VM management ---- */

static void do_vm_call(struct cpu_state *s)
{
	static const uint32_t ids[] = {
		VMM_CALL_VM_CREATE, VMM_CALL_VM_START, VMM_CALL_VM_STOP,
		VMM_CALL_VM_DESTROY, VMM_CALL_VM_QUERY,
	};
	uint32_t id = ids[below(&s->rng, 5)];

	s->n.vm_calls++;
	if (below(&s->rng, 4) == 0) {
		/* through the ucall channel */
		volatile struct vmm_ucall *u = ucall_of(s->cpu);
		uint64_t self = machine.ucall_area + (uint64_t)s->cpu * VMM_UCALL_STRIDE;
		int64_t out[4] = { 0, 0, 0, 0 };

		random_contents(s, u, id);
		u->self = self;
		u->ret[0] = VMM_RET_NOT_SUPPORTED;
		fw_ucall_ring_raw(self);
		out[0] = u->ret[0];
		remember_vm(s, id, out);
		return;
	}
	do_call(s, id);
}

/* ---- the run ---- */

static void wait_all(uint32_t *count, unsigned n)
{
	__atomic_add_fetch(count, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < n)
		fw_cpu_relax();
}

static void setup(void)
{
	int64_t out[4] = { 0, 0, 0, 0 };
	uint64_t regs[8] = { VMM_CALL_WHOAMI, 0, 0, 0, 0, 0, 0, 0 };

	fw_guard_init();
	machine.x86 = !fw_dtb();
	machine.ram_lo = machine.x86 ? VMM_X86_RAM_BASE : VMM_ARM_RAM_BASE;
	machine.ram_hi = machine.ram_lo + fw_ram_size();
	machine.io_end = fw_guard_map_io_space();
	/* The area starts with vCPU 0's structure, which this is. */
	machine.ucall_area = fw_ucall_gpa();
	/* The VM's name seeds the run when the policy lets us ask for it (a
	 * restricted VM with no calls gets #UD on x86_64: caught). */
	if (!fw_try_call(FW_CALL_HVC, regs, out) && out[0] >= 0)
		machine.name8 = (uint64_t)out[3];
	fw_printf("hostile: %s, %u vCPUs, RAM %#lx-%#lx, I/O space to %#lx, ucall area %#lx, "
		  "%u rounds each\n", fw_arch_name(), fw_nr_cpus(),
		  (unsigned long)machine.ram_lo, (unsigned long)machine.ram_hi,
		  (unsigned long)machine.io_end, (unsigned long)machine.ucall_area,
		  HOSTILE_ROUNDS);
}

/* Polls the console (vCPU 0 reset it after the rounds) until a newline. */
static void wait_for_line(void)
{
	int c;

	fw_printf("hostile: waiting for a line on the console\n");
	do {
		c = fw_getc();
		if (c < 0)
			fw_cpu_relax();
	} while (c != '\n' && c != '\r');
	fw_printf("hostile: got the line, the VM ends\n");
}

void fw_main(unsigned cpu)
{
	struct cpu_state s = { .cpu = cpu };
	unsigned round, kind;
	uint64_t seed;

	fw_exit_status = HOSTILE_STATUS;
	if (cpu == 0) {
		setup();
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
			fw_cpu_relax();
		if (!fw_guard_init())
			return;         /* past MAX_CPUS: sits this one out */
	}
	if (cpu >= MAX_CPUS)
		return;
	s.ncpus = fw_nr_cpus() < MAX_CPUS ? fw_nr_cpus() : MAX_CPUS;
	s.buf = rep_bufs[cpu];
	seed = HOSTILE_SEED ^ machine.name8 ^ ((uint64_t)(cpu + 1) * 0x9e3779b97f4a7c15ULL);
	s.rng.s = seed;
	fw_printf("hostile: vCPU %u seed %#llx\n", cpu, (unsigned long long)seed);
	/* Lines printed while others poke the UART may come out mangled:
	 * the seeds go out before anyone starts, the results after all end. */
	wait_all(&started, s.ncpus);

	for (round = 0; round < HOSTILE_ROUNDS; round++) {
		kind = below(&s.rng, 32);
		if (kind < 9)
			do_call(&s, random_id(&s.rng));
		else if (kind < 13)
			do_ucall(&s);
		else if (kind < 16)
			do_doorbell(&s);
		else if (kind < 17)
			do_scribble(&s);
		else if (kind < 18)
			do_vm_call(&s);
		else if (kind < 25 || !machine.x86)
			do_mmio(&s);
		else
			do_pio(&s);
		if ((round + 1) % (HOSTILE_ROUNDS / 4) == 0)
			fw_printf("hostile: vCPU %u: %u/%u rounds\n", cpu, round + 1,
				  HOSTILE_ROUNDS);
	}
	wait_all(&finished, s.ncpus);
	if (cpu == 0) {
		fw_console_reset();
		fw_putc('\n');         /* after whatever the rounds printed */
		__atomic_store_n(&quiet, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&quiet, __ATOMIC_ACQUIRE))
		fw_cpu_relax();
	fw_printf("hostile: vCPU %u done: calls %llu (refused %llu, faulted %llu), "
		  "ucalls %llu (refused %llu), doorbells %llu, scribbles %llu, "
		  "vm calls %llu (created %llu), mmio %llu, pio %llu, "
		  "guest faults %llu (last %#x)\n", cpu,
		  (unsigned long long)s.n.calls, (unsigned long long)s.n.calls_refused,
		  (unsigned long long)s.n.calls_faulted, (unsigned long long)s.n.ucalls,
		  (unsigned long long)s.n.ucalls_refused, (unsigned long long)s.n.doorbells,
		  (unsigned long long)s.n.scribbles, (unsigned long long)s.n.vm_calls,
		  (unsigned long long)s.n.vm_created, (unsigned long long)s.n.mmio,
		  (unsigned long long)s.n.pio, (unsigned long long)fw_guard_faults(),
		  fw_guard_last_fault());
	if (HOSTILE_WAIT_INPUT && cpu == 0)
		wait_for_line();
}
