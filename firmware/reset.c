/* A reset request (aarch64: PSCI SYSTEM_RESET, x86_64: i8042 reset line). */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("reset: resetting\n");
	fw_reset();
}
