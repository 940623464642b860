/* An orderly power-off (aarch64: PSCI SYSTEM_OFF); vmm exits 0. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("poweroff: powering off\n");
	fw_poweroff();
}
