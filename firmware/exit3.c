/* A guest-chosen status through vmm's exact exit register. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("exit3: ending the VM with status 3\n");
	fw_exit(3);
}
