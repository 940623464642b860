/*
 * Every vCPU sends ucalls at once: a print and a sync per message, the
 * sync's stage naming the sender (cpu * 1000 + n) so the test can check
 * that vmm attributed each to the vCPU that rang.
 */
#include "fw.h"

#define MESSAGES 50

void fw_main(unsigned cpu)
{
	unsigned n;

	for (n = 0; n < MESSAGES; n++) {
		if (fw_ucall_printf("ucall-smp: vCPU %u message %u intact\n", cpu, n) < 0)
			fw_panic("ucall print %u refused", n);
		if (fw_ucall_sync(cpu * 1000 + n) < 0)
			fw_panic("ucall sync %u refused", n);
	}
}
