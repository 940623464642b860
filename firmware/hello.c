/* The demo: one line from every vCPU, then status 0 once all have printed. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	fw_printf("hello from %s guest, vCPU %u\n", fw_arch_name(), cpu);
}
