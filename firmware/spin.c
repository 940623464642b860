/* Never ends on its own, with interrupts masked: for vmm's timeouts and
 * signal handling. Every vCPU spins, so none sleeps in the kernel. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu == 0)
		fw_printf("spinning\n");
	for (;;)
		__asm__ volatile("" : : : "memory");
}
