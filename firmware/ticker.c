/* Prints "tick N" about ten times a second, forever, from vCPU 0 (the
 * others spin): a running guest whose progress the control socket's
 * stop/cont/system_reset tests can watch. Time comes from the counter
 * every vCPU can read without a device: the TSC on x86_64 (taken as
 * about 1 GHz; the pace only needs to be roughly steady), the generic
 * timer's virtual count on aarch64 (its frequency is in CNTFRQ_EL0). */
#include "fw.h"

static uint64_t now(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
#endif
}

static uint64_t ticks_per_tenth(void)
{
#if defined(__x86_64__)
	return 100000000ULL;
#else
	uint64_t f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f / 10;
#endif
}

void fw_main(unsigned cpu)
{
	uint64_t step, next;

	if (cpu != 0)
		for (;;)
			__asm__ volatile("" : : : "memory");
	fw_printf("ticker: start\n");
	step = ticks_per_tenth();
	next = now() + step;
	for (unsigned n = 1;; n++) {
		while (now() < next)
			__asm__ volatile("" : : : "memory");
		/* After a pause, carry on at the same pace rather than catch up. */
		next = now() > next + step ? now() + step : next + step;
		fw_printf("tick %u\n", n);
	}
}
