/*
 * aarch64 only: the vCPU's PMU as a guest sees it. The CPU says it has
 * one (ID_AA64DFR0_EL1.PMUVer), PMCR_EL0.N gives its event counters, the
 * cycle counter counts once enabled, and the device tree describes it
 * (compatible "arm,armv8-pmuv3", overflow interrupt PPI 7). Exit 0 when
 * all hold; 1 without a PMU, 2 when the counter does not count, 3 when
 * the device tree lacks the node. Without the PMU feature KVM hides
 * PMUVer (and PMU registers would be undefined instructions).
 */
#include "fw.h"

#define sysreg_read(name) ({ uint64_t v_; \
	__asm__ volatile("mrs %0, " #name : "=r"(v_)); v_; })
#define sysreg_write(name, v) __asm__ volatile("msr " #name ", %0; isb" : : "r"((uint64_t)(v)))

#define PMCR_E        (1U << 0)   /* enable the counters */
#define PMCR_C        (1U << 2)   /* reset the cycle counter */
#define PMCNTEN_CYCLE (1U << 31)

struct dt_pmu {
	unsigned depth;       /* of the /pmu node being read, 0: not in it */
	bool compatible, irq_ok;
};

static bool str_in_list(const char *want, const char *list, uint32_t len)
{
	for (uint32_t i = 0; i < len;) {
		uint32_t n = 0;

		while (i + n < len && list[i + n])
			n++;
		if (n && !strcmp(want, list + i))
			return true;
		i += n + 1;
	}
	return false;
}

static void dt_begin(void *ctx, unsigned depth, const char *name)
{
	struct dt_pmu *d = ctx;

	if (depth == 1 && !strcmp(name, "pmu"))
		d->depth = depth;
}

static void dt_end(void *ctx, unsigned depth)
{
	struct dt_pmu *d = ctx;

	if (d->depth == depth)
		d->depth = 0;
}

static void dt_prop(void *ctx, unsigned depth, const char *name, const void *value,
		    uint32_t len)
{
	struct dt_pmu *d = ctx;

	if (!d->depth || depth != d->depth)
		return;
	if (!strcmp(name, "compatible"))
		d->compatible = str_in_list("arm,armv8-pmuv3", value, len);
	if (!strcmp(name, "interrupts") && len == 12)
		d->irq_ok = fw_be32(value) == 1 && fw_be32((const char *)value + 4) == 7;
}

void fw_main(unsigned cpu)
{
	static const struct fw_fdt_visitor visit = {
		.begin_node = dt_begin, .end_node = dt_end, .prop = dt_prop,
	};
	struct dt_pmu dt = { 0 };
	unsigned pmuver = (sysreg_read(id_aa64dfr0_el1) >> 8) & 0xf;
	uint64_t pmcr, c0, c1;
	volatile unsigned spin = 0;

	if (cpu != 0)
		return;
	if (pmuver == 0 || pmuver == 0xf) {
		fw_printf("pmu: no PMU (ID_AA64DFR0_EL1.PMUVer %u)\n", pmuver);
		fw_exit(1);
	}
	pmcr = sysreg_read(pmcr_el0);
	fw_printf("pmu: PMUVer %u, PMCR_EL0.N %u event counters\n", pmuver,
		  (unsigned)(pmcr >> 11) & 0x1f);

	sysreg_write(pmcr_el0, pmcr | PMCR_E | PMCR_C);
	sysreg_write(pmcntenset_el0, PMCNTEN_CYCLE);
	c0 = sysreg_read(pmccntr_el0);
	for (unsigned i = 0; i < 1000000; i++)
		spin = spin + 1;
	c1 = sysreg_read(pmccntr_el0);
	fw_printf("pmu: cycle counter %llu -> %llu\n", (unsigned long long)c0,
		  (unsigned long long)c1);
	if (c1 <= c0)
		fw_exit(2);

	if (fw_fdt_walk(fw_dtb(), &visit, &dt) < 0 || !dt.compatible || !dt.irq_ok) {
		fw_printf("pmu: the device tree has no arm,armv8-pmuv3 node on PPI 7\n");
		fw_exit(3);
	}
	fw_printf("pmu: device tree node arm,armv8-pmuv3, PPI 7\n");
	fw_exit(0);
}
