/*
 * x86_64 calls to vmm: vmcall or vmmcall (the one the CPU's vendor
 * implements, so KVM never has to patch guest code), the ucall port, and
 * the descriptor tables fw_probe_call() needs to catch #UD and #GP and to
 * run code at ring 3.
 */
#include "fw-internal.h"
#include <vmm-guest/calls.h>
#include <vmm-guest/platform.h>

#define SEL_KERNEL_CS	0x08
#define SEL_TSS		0x28
#define GATE_INTERRUPT	0x8e            /* present, DPL 0, 64-bit interrupt gate */
#define GATE_USER	0xee            /* the same, callable from ring 3 */
#define PTE_USER	0x4ULL
#define NR_STUBS	22
#define VECTOR_RETURN	0x80

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1, ist[7], reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t fw_x86_stubs[NR_STUBS];
extern char fw_x86_stub_128[];
extern char fw_x86_vmcall_insn[], fw_x86_vmmcall_insn[];
extern struct { uint64_t vector, error_code, rip, cs; } fw_x86_trap;
int fw_x86_try(void (*fn)(void *), void *arg, void *user_stack_top);
void fw_x86_vmcall_probe(uint64_t id, uint64_t a1, int64_t *ret);
void fw_x86_vmmcall_probe(uint64_t id, uint64_t a1, int64_t *ret);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t trap_stack[8192] __attribute__((aligned(16)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static bool tables_ready;
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

int64_t fw_arch_vmm_call(uint32_t id, const uint64_t a[4], int64_t out[4], bool smc)
{
	register uint64_t r10 __asm__("r10") = a[3];
	uint64_t rax = id, rdi = a[0], rsi = a[1], rdx = a[2];

	(void)smc;
	if (cpu_is_amd())
		__asm__ volatile("vmmcall"
				 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10)
				 : : "memory");
	else
		__asm__ volatile("vmcall"
				 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10)
				 : : "memory");
	if (out) {
		out[0] = (int64_t)rax;
		out[1] = (int64_t)rdi;
		out[2] = (int64_t)rsi;
		out[3] = (int64_t)rdx;
	}
	return (int64_t)rax;
}

static void set_gate(unsigned vec, uint64_t handler, uint8_t type)
{
	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)handler, .sel = SEL_KERNEL_CS, .type = type,
		.off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
	};
}

/* Ring 3 needs user segments, a TSS with a ring 0 stack, an IDT, and the
 * user bit on the pages it touches (the first GiB, where the image is). */
static void tables_init(void)
{
	uint64_t tss_base = (uintptr_t)&tss, cr3, *pml4, *pdpt, *pd;
	struct desc_ptr gdtr = { sizeof(gdt) - 1, (uintptr_t)gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	unsigned i;

	if (tables_ready)
		return;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;         /* 0x08 kernel code, 64-bit */
	gdt[2] = 0x00cf93000000ffffULL;         /* 0x10 kernel data */
	gdt[3] = 0x00cff3000000ffffULL;         /* 0x18 user data, DPL 3 */
	gdt[4] = 0x00affb000000ffffULL;         /* 0x20 user code, DPL 3, 64-bit */
	gdt[5] = (sizeof(tss) - 1) | ((tss_base & 0xffffff) << 16) |
		 (0x89ULL << 40) | (((tss_base >> 24) & 0xff) << 56);
	gdt[6] = tss_base >> 32;
	tss.rsp0 = (uintptr_t)(trap_stack + sizeof(trap_stack));
	tss.iomap = sizeof(tss);
	for (i = 0; i < NR_STUBS; i++)
		set_gate(i, fw_x86_stubs[i], GATE_INTERRUPT);
	set_gate(VECTOR_RETURN, (uintptr_t)fw_x86_stub_128, GATE_USER);

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffULL);
	pml4[0] |= PTE_USER;
	pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0xffffffffff000ULL);
	pdpt[0] |= PTE_USER;
	pd = (uint64_t *)(uintptr_t)(pdpt[0] & 0xffffffffff000ULL);
	for (i = 0; i < 512; i++)
		pd[i] |= PTE_USER;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");

	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
	tables_ready = true;
}

struct probe_args {
	uint32_t id;
	uint64_t a1;
	int64_t ret;
};

static void probe_fn(void *opaque)
{
	struct probe_args *a = opaque;

	if (cpu_is_amd())
		fw_x86_vmmcall_probe(a->id, a->a1, &a->ret);
	else
		fw_x86_vmcall_probe(a->id, a->a1, &a->ret);
}

int fw_arch_probe_call(uint32_t id, uint64_t a1, bool user_mode, struct fw_probe *p)
{
	static struct probe_args args;  /* ring 3 writes it: user pages only */
	uint64_t insn = (uintptr_t)(cpu_is_amd() ? fw_x86_vmmcall_insn : fw_x86_vmcall_insn);

	if (fw_cpu_id() != 0)
		return -1;              /* one set of trap globals */
	tables_init();
	args = (struct probe_args){ .id = id, .a1 = a1 };
	if (fw_x86_try(probe_fn, &args, user_mode ? user_stack + sizeof(user_stack) : NULL)) {
		p->faulted = true;
		p->vector = (unsigned)fw_x86_trap.vector;
		p->error_code = fw_x86_trap.error_code;
		p->at_call = fw_x86_trap.rip == insn;
		return 0;
	}
	p->ret = args.ret;
	return 0;
}

uint64_t fw_arch_ucall_gpa(unsigned cpu)
{
	uint64_t gpa;

	(void)cpu;                      /* entry.S kept this vCPU's own at GS:8 */
	__asm__ volatile("movq %%gs:8, %0" : "=r"(gpa));
	return gpa;
}

void fw_arch_ucall_ring(uint64_t gpa)
{
	uint32_t pfn = (uint32_t)(gpa >> 12);

	__asm__ volatile("outl %0, %1" : : "a"(pfn), "Nd"((uint16_t)VMM_X86_UCALL_PORT) : "memory");
}

uint64_t fw_counter(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

void fw_kernel_roundtrip(void)
{
	uint32_t a = 0, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
}

void fw_userspace_roundtrip(void)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)(VMM_X86_COM1_PORT + 5)) : "memory");
}

void fw_arch_ucall_ring_narrow(uint64_t gpa)
{
	uint8_t low = (uint8_t)(gpa >> 12);

	__asm__ volatile("outb %0, %1" : : "a"(low), "Nd"((uint16_t)VMM_X86_UCALL_PORT) : "memory");
}
