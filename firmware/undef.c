/* Runs into an undefined instruction; vmm must end the VM and report it. */
#include "fw.h"

void fw_main(unsigned cpu)
{
	if (cpu != 0)
		return;
	fw_printf("about to execute an undefined instruction\n");
	fw_undefined_instruction();
	fw_panic("the undefined instruction did not trap");
}
