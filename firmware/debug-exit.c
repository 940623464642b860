/* The QEMU isa-debug-exit convention: writing 2 ends the VM with status 5. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("debug-exit: writing 2 to the debug exit (status 5)\n");
	fw_debug_exit(2);
}
