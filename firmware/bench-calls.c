/*
 * bench/: the round trip of a call vmm answers in userspace (version)
 * against one KVM answers in the kernel (x86_64 cpuid, aarch64 hvc
 * SMCCC_VERSION), as counter ticks per call and their ratio.
 */
#include "fw.h"
#include <vmm-guest/calls.h>

#define CALLS 2000

static uint64_t per_call(bool userspace)
{
	uint64_t start = fw_counter();
	unsigned i;

	for (i = 0; i < CALLS; i++) {
		if (userspace)
			fw_vmm_call(VMM_CALL_VERSION, 0, 0, 0, 0, NULL);
		else
			fw_kernel_roundtrip();
	}
	return (fw_counter() - start) / CALLS;
}

void fw_main(unsigned cpu)
{
	uint64_t user, kernel;

	if (cpu != 0)
		return;
	if (fw_vmm_call(VMM_CALL_VERSION, 0, 0, 0, 0, NULL) < 0)
		fw_panic("the version call is refused: give the VM the \"info\" flag");
	per_call(true);         /* warm up both paths */
	per_call(false);
	user = per_call(true);
	kernel = per_call(false);
	fw_printf("bench-calls: %s: %u calls each: vmm (userspace) %llu ticks/call, "
		  "KVM (in kernel) %llu ticks/call, ratio %llu.%02llu\n", fw_arch_name(), CALLS,
		  (unsigned long long)user, (unsigned long long)kernel,
		  (unsigned long long)(kernel ? user / kernel : 0),
		  (unsigned long long)(kernel ? (user * 100 / kernel) % 100 : 0));
}
