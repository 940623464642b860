/* Halts every vCPU at once and stays: a VM that costs no CPU (the test
 * bed keeps one alive, see tests/nested/init). */
#include "fw.h"

void fw_main(unsigned cpu)
{
	(void)cpu;
	fw_halt();
}
