/* Takes a fault no handler catches (x86_64: a triple fault; aarch64: an
 * instruction abort into vmm's vectors); vmm must end the VM and report it. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("triple-fault: about to take an unhandled fault\n");
	fw_fatal_fault();
}
