/*
 * A guest whose vCPUs spend most of their time blocked outside KVM_RUN, for
 * the stop/cont stress test: vCPU 0 makes the version call in a loop (an
 * external monitor answers it, so each call waits for a client of the
 * control socket), vCPU 1 queries a VM that does not exist in a loop (a
 * service guest's VM call, which waits for the manager's main loop), and
 * any other vCPU spins. Each prints its count, vCPU 0 every 2 calls (its
 * monitor may be slow) and vCPU 1 every 32: "pause-stress: cpuN COUNT". It
 * never ends by itself.
 */
#include "fw.h"
#include <vmm-guest/calls.h>

#define NO_SUCH_VM 999999

void fw_main(unsigned cpu)
{
	int64_t r[4];

	if (cpu > 1)
		for (;;)
			fw_cpu_relax();
	for (uint64_t n = 1;; n++) {
		if (cpu == 0)
			fw_vmm_call(VMM_CALL_VERSION, 0, 0, 0, 0, r);
		else
			fw_vmm_call(VMM_CALL_VM_QUERY, NO_SUCH_VM, 0, 0, 0, r);
		if (n % (cpu == 0 ? 2 : 32) == 0)
			fw_printf("pause-stress: cpu%u %llu\n", cpu, (unsigned long long)n);
	}
}
