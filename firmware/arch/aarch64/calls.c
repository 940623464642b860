/*
 * aarch64 calls to vmm: hvc #0 or smc #0 under the SMC Calling Convention,
 * and the ucall doorbell the device tree describes.
 */
#include "fw-internal.h"
#include <vmm-guest/calls.h>
#include <vmm-guest/platform.h>

int64_t fw_arch_vmm_call(uint32_t id, const uint64_t a[4], int64_t out[4], bool smc)
{
	register uint64_t x0 __asm__("x0") = id;
	register uint64_t x1 __asm__("x1") = a[0];
	register uint64_t x2 __asm__("x2") = a[1];
	register uint64_t x3 __asm__("x3") = a[2];
	register uint64_t x4 __asm__("x4") = a[3];

	/* SMCCC 1.1 keeps x4-x17, but KVM's own answers are 1.0-style:
	 * take the callee-saved view of nothing beyond x0-x3. */
	if (smc)
		__asm__ volatile("smc #0"
				 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4)
				 :
				 : "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
				   "x13", "x14", "x15", "x16", "x17", "memory");
	else
		__asm__ volatile("hvc #0"
				 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4)
				 :
				 : "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
				   "x13", "x14", "x15", "x16", "x17", "memory");
	if (out) {
		out[0] = (int64_t)x0;
		out[1] = (int64_t)x1;
		out[2] = (int64_t)x2;
		out[3] = (int64_t)x3;
	}
	return (int64_t)x0;
}

/* EL1 cannot fault on hvc/smc the way x86 faults on vmcall: the probe is
 * the call itself, and ring 3's equivalent (EL0) cannot make it at all. */
int fw_arch_probe_call(uint32_t id, uint64_t a1, bool user_mode, struct fw_probe *p)
{
	const uint64_t a[4] = { a1, 0, 0, 0 };

	if (user_mode)
		return -1;
	p->ret = fw_arch_vmm_call(id, a, NULL, false);
	return 0;
}

struct ucall_scan {
	bool in_node;
	uint64_t area;
};

static void ucall_begin(void *ctx, unsigned depth, const char *name)
{
	struct ucall_scan *s = ctx;

	if (depth == 1)
		s->in_node = !strncmp(name, "vmm-ucall@", 10);
}

static void ucall_prop(void *ctx, unsigned depth, const char *name, const void *value,
		       uint32_t len)
{
	struct ucall_scan *s = ctx;

	/* vmm writes the root with #address-cells = #size-cells = 2. */
	if (depth == 1 && s->in_node && !strcmp(name, "vmm,ucall-area") && len == 16)
		s->area = fw_fdt_cells(value, 2);
}

/* Found once; vCPUs racing here all store the same value. */
static uint64_t ucall_area;

uint64_t fw_arch_ucall_gpa(unsigned cpu)
{
	uint64_t area = __atomic_load_n(&ucall_area, __ATOMIC_RELAXED);

	if (!area) {
		const struct fw_fdt_visitor v = { .begin_node = ucall_begin, .prop = ucall_prop };
		struct ucall_scan s = { 0 };

		if (!fw_dtb() || fw_fdt_walk(fw_dtb(), &v, &s) < 0 || !s.area)
			return 0;
		area = s.area;
		__atomic_store_n(&ucall_area, area, __ATOMIC_RELAXED);
	}
	return area + (uint64_t)cpu * VMM_UCALL_STRIDE;
}

void fw_arch_ucall_ring(uint64_t gpa)
{
	/* One plain 64-bit store that KVM can decode (no writeback). */
	__asm__ volatile("str %0, [%1]" : : "r"(gpa), "r"(VMM_ARM_UCALL_DOORBELL) : "memory");
}

uint64_t fw_counter(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

void fw_kernel_roundtrip(void)
{
	const uint64_t a[4] = { 0, 0, 0, 0 };

	fw_arch_vmm_call(SMCCC_VERSION_ID, a, NULL, false);
}

void fw_userspace_roundtrip(void)
{
	uint32_t v;

	/* PL011 FR (offset 0x18), by a plain load KVM can decode. */
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(VMM_ARM_PL011_BASE + 0x18) : "memory");
}

void fw_arch_ucall_ring_narrow(uint64_t gpa)
{
	__asm__ volatile("str %w0, [%1]" : : "r"((uint32_t)gpa), "r"(VMM_ARM_UCALL_DOORBELL)
			 : "memory");
}
