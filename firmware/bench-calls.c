/*
 * bench/: the round trip of a call vmm answers in userspace (version)
 * against the cheapest exit vmm answers in userspace (a read of the
 * console UART's status register: the floor for any userspace handler)
 * and a call KVM answers in the kernel (x86_64 cpuid, aarch64 hvc
 * SMCCC_VERSION), as counter ticks per round trip and ratios.
 */
#include "fw.h"
#include <vmm-guest/calls.h>

#define CALLS 2000

enum path { VMM_CALL, BARE_EXIT, IN_KERNEL };

static uint64_t per_call(enum path path)
{
	uint64_t start = fw_counter();
	unsigned i;

	for (i = 0; i < CALLS; i++) {
		switch (path) {
		case VMM_CALL:
			fw_vmm_call(VMM_CALL_VERSION, 0, 0, 0, 0, NULL);
			break;
		case BARE_EXIT:
			fw_userspace_roundtrip();
			break;
		case IN_KERNEL:
			fw_kernel_roundtrip();
			break;
		}
	}
	return (fw_counter() - start) / CALLS;
}

/* a / b in hundredths */
static unsigned long long hundredths(uint64_t a, uint64_t b)
{
	return b ? (unsigned long long)(a * 100 / b) : 0;
}

void fw_main(unsigned cpu)
{
	uint64_t user, bare, kernel;

	if (cpu != 0)
		return;
	if (fw_vmm_call(VMM_CALL_VERSION, 0, 0, 0, 0, NULL) < 0)
		fw_panic("the version call is refused: give the VM the \"info\" flag");
	/* warm up every path */
	per_call(VMM_CALL);
	per_call(BARE_EXIT);
	per_call(IN_KERNEL);
	/* interleaved, so that a slow stretch of the host spoils all three alike */
	user = bare = kernel = 0;
	for (unsigned round = 0; round < 4; round++) {
		user += per_call(VMM_CALL);
		bare += per_call(BARE_EXIT);
		kernel += per_call(IN_KERNEL);
	}
	fw_printf("bench-calls: %s: %u round trips each x4: vmm call (userspace) %llu ticks, "
		  "bare userspace exit %llu ticks, KVM in kernel %llu ticks; call/bare %llu.%02llu, "
		  "call/in-kernel %llu.%02llu\n", fw_arch_name(), CALLS, (unsigned long long)(user / 4),
		  (unsigned long long)(bare / 4), (unsigned long long)(kernel / 4),
		  hundredths(user, bare) / 100, hundredths(user, bare) % 100,
		  hundredths(user, kernel) / 100, hundredths(user, kernel) % 100);
}
