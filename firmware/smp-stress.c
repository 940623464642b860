/* Every vCPU prints 50 numbered lines at once: a check that fw_printf
 * lines never interleave and that no line is lost. */
#include "fw.h"

#define LINES 50

void fw_main(unsigned cpu)
{
	unsigned i;

	for (i = 1; i <= LINES; i++)
		fw_printf("smp-stress: vCPU %u line %u of %u\n", cpu, i, LINES);
}
